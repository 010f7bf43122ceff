package istio

// The private network and mount namespace the whole test runs in: TestMain
// re-executes the test binary under `unshare -m -n`, so loopback, the pod IPs,
// the Service VIPs and the iptables rules exist only for this test and its
// Envoy, and the module can be mounted where the sidecar would find it.

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

const nsMarker = "WASMERANG_ISTIO_IN_NAMESPACE"

// Re-executes this binary in new network and mount namespaces; returns false
// when already inside them.
func reexecInNamespaces() (bool, int) {
	if os.Getenv(nsMarker) == "1" {
		return false, 0
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return true, 2
	}
	args := append([]string{"-m", "-n", "--propagation", "private", self}, os.Args[1:]...)
	cmd := exec.Command("unshare", args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(),
		nsMarker+"=1",
		// Istio's metadata-exchange filters exist only in istio-proxy's Envoy build.
		"PILOT_ENABLE_METADATA_EXCHANGE=false",
	)
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return true, ee.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "unshare:", err)
		return true, 2
	}
	return true, 0
}

func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// Loopback up, holding every pod IP, and a route for the VIPs.
func setupNetwork(w *world) error {
	// Loopback holds the addresses (this kernel may lack dummy and veth links).
	cmds := [][]string{{"ip", "link", "set", "lo", "up"}}
	for _, pods := range w.pods {
		for _, p := range pods {
			cmds = append(cmds, []string{"ip", "addr", "replace", p.ip.String() + "/32", "dev", "lo"})
		}
	}
	cmds = append(cmds, []string{"ip", "route", "replace", "10.96.0.0/16", "dev", "lo"})
	for _, c := range cmds {
		if err := run(c[0], c[1:]...); err != nil {
			return err
		}
	}
	return nil
}

// istio-init's capture reduced to what matters here: the app's outbound TCP
// is REDIRECTed to 15001, the proxy's own (uid 1337) and loopback traffic is
// exempt. Before it, a stand-in for kube-proxy: the proxy's connections to a
// Service VIP (PassthroughCluster) are DNATed to the Service's pods, at random.
func setupIptables(w *world) error {
	rules := [][]string{
		{"-t", "nat", "-N", "KUBE_STANDIN"},
		{"-t", "nat", "-N", "ISTIO_OUTPUT"},
		{"-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-d", "10.96.0.0/16", "-m", "owner", "--uid-owner", "1337", "-j", "KUBE_STANDIN"},
		{"-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-j", "ISTIO_OUTPUT"},
		{"-t", "nat", "-A", "ISTIO_OUTPUT", "-m", "owner", "--uid-owner", "1337", "-j", "RETURN"},
		{"-t", "nat", "-A", "ISTIO_OUTPUT", "-m", "owner", "--gid-owner", "1337", "-j", "RETURN"},
		{"-t", "nat", "-A", "ISTIO_OUTPUT", "-d", "127.0.0.1/32", "-j", "RETURN"},
		{"-t", "nat", "-A", "ISTIO_OUTPUT", "-p", "tcp", "-j", "REDIRECT", "--to-ports", "15001"},
	}
	for _, svc := range w.services {
		vip := w.vips[svc.Name]
		for _, sp := range svc.Spec.Ports {
			b := w.backends(svc, sp)
			for i, to := range b {
				r := []string{"-t", "nat", "-A", "KUBE_STANDIN", "-p", "tcp", "-d", vip.String(), "--dport", fmt.Sprint(sp.Port)}
				if left := len(b) - i; left > 1 {
					r = append(r, "-m", "statistic", "--mode", "random", "--probability", fmt.Sprintf("%.4f", 1/float64(left)))
				}
				r = append(r, "-j", "DNAT", "--to-destination", to.String())
				rules = append(rules, r)
			}
		}
	}
	for _, r := range rules {
		if err := run("iptables", r...); err != nil {
			return err
		}
	}
	return nil
}

// Mounts a tmpfs where the sidecar finds the module (the ConfigMap's mount
// point), at the deepest existing directory above it, in this mount namespace only.
func mountModuleDir(path string) (string, error) {
	dir := filepath.Dir(path)
	base := dir
	for {
		if _, err := os.Stat(base); err == nil {
			break
		}
		base = filepath.Dir(base)
	}
	switch base {
	case "/", "/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc", "/root", "/tmp", "/proc", "/sys", "/dev", "/var", "/home":
		return "", fmt.Errorf("module directory %s: will not cover %s with a tmpfs", dir, base)
	}
	if err := syscall.Mount("tmpfs", base, "tmpfs", 0, "mode=0755"); err != nil {
		return "", fmt.Errorf("mount tmpfs on %s: %w", base, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return dir, nil
}

// Makes a file readable by uid 1337 at a path it can reach (a bind mount).
func bindFile(src, dst string) error {
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	f.Close()
	return syscall.Mount(src, dst, "", syscall.MS_BIND, "")
}

var _ = netip.Addr{}
