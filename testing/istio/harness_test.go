package istio

// Istio's control plane in the loop: the manifests `wasmerang scaffold istio`
// writes go to Istio's in-process fake discovery server (pilot/test/xds), which
// serves ADS on loopback to a vanilla Envoy 1.40 acting as a client pod's
// sidecar, in a private network and mount namespace. Connections from client
// pod IPs of both parities go through the Service VIP to egress servers that
// answer with their name.
//
// WASMERANG_ISTIO_SCAFFOLDS names a folder with one scaffold per subfolder
// (wasmplugin, envoyfilter, ...); WASMERANG_ENVOY the Envoy binary.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pkg/config/mesh"
	istiolog "istio.io/istio/pkg/log"
)

func TestMain(m *testing.M) {
	if reexec, code := reexecInNamespaces(); reexec {
		os.Exit(code)
	}
	// Istio's own logging: off (WASMERANG_ISTIO_LOG=debug|info|warn|error turns it on).
	level := istiolog.NoneLevel
	switch os.Getenv("WASMERANG_ISTIO_LOG") {
	case "debug":
		level = istiolog.DebugLevel
	case "info":
		level = istiolog.InfoLevel
	case "warn":
		level = istiolog.WarnLevel
	case "error":
		level = istiolog.ErrorLevel
	}
	for _, s := range istiolog.Scopes() {
		s.SetOutputLevel(level)
	}
	code := m.Run()
	fmt.Print(differences)
	os.Exit(code)
}

// What this harness is not: said with every run, next to what it proves.
const differences = `
What differs from a real mesh here:
  - a vanilla Envoy 1.40 (the official build) stands in for istio-proxy, Istio's own Envoy build;
  - metadata exchange is off (PILOT_ENABLE_METADATA_EXCHANGE=false) and telemetry too (a mesh
    config without defaultProviders.metrics): their filters exist only in istio-proxy;
  - a stand-in SDS answers "default" and "ROOTCA" with one self-signed certificate; no mTLS is used
    (the egress pods have no sidecar);
  - no istio-agent: the bootstrap is written by the test, and ECDS goes to Envoy directly (the agent
    passes local file:// modules through unchanged; it rewrites only remote ones);
  - no kube-proxy: the Service VIPs exist only as routes, and two iptables rules stand in for its
    DNAT of the sidecar's own connections to a VIP (PassthroughCluster); no NetworkPolicy is enforced;
  - Istio's discovery server runs in process (pilot/test/xds) over fake Kubernetes objects: the
    scaffold's Services with a clusterIP, Pods from its Deployments, EndpointSlices built from them;
  - one sidecar (the first client pod's) carries connections from every client pod IP: in a mesh
    each pod's own sidecar sees only its pod's address; capture is istio-init's reduced to REDIRECT
    to 15001 with uid 1337 exempt.

`

const frontService = "egress"

// Connections per client pod IP and port.
const perSource = 3

func envoyBinary(t *testing.T) string {
	p := os.Getenv("WASMERANG_ENVOY")
	if p == "" {
		p = "envoy"
	}
	return p
}

func scaffoldDirs(t *testing.T) []string {
	root := os.Getenv("WASMERANG_ISTIO_SCAFFOLDS")
	if root == "" {
		t.Fatal("WASMERANG_ISTIO_SCAFFOLDS is not set (a folder of `wasmerang scaffold istio` outputs)")
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		p := filepath.Join(root, e.Name())
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			dirs = append(dirs, p)
		}
	}
	if len(dirs) == 0 {
		t.Fatalf("no scaffolds under %s", root)
	}
	return dirs
}

// The egress servers: one listener per pod of each egress Deployment and port,
// answering with the Deployment's name (what the scaffold's tcpsvd does), then echoing.
func startEgress(t *testing.T, w *world) {
	seen := map[netip.AddrPort]bool{}
	for _, svc := range w.services {
		for _, sp := range svc.Spec.Ports {
			for _, ap := range w.backends(svc, sp) {
				if seen[ap] {
					continue
				}
				seen[ap] = true
				name := ""
				for dep, pods := range w.pods {
					for _, p := range pods {
						if p.ip == ap.Addr() {
							name = dep
						}
					}
				}
				l, err := net.Listen("tcp", ap.String())
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { l.Close() })
				go func() {
					for {
						c, err := l.Accept()
						if err != nil {
							return
						}
						go func() {
							defer c.Close()
							fmt.Fprintf(c, "%s\n", name)
							_, _ = io.Copy(c, c)
						}()
					}
				}()
			}
		}
	}
}

type failure struct {
	missing  bool   // no module file at all
	garbage  bool   // a file that is not a Wasm module
	strategy string // WasmPlugin failStrategy, or the EnvoyFilter's failure_policy ("" keeps the scaffold's)
}

func (f *failure) String() string {
	if f == nil {
		return "as scaffolded"
	}
	m := "module garbage"
	if f.missing {
		m = "module missing"
	}
	s := f.strategy
	if s == "" {
		s = "scaffold's policy"
	}
	return m + ", " + s
}

type result struct {
	api      string
	outcomes map[uint16]map[netip.Addr][]string // port -> source -> what each connection read
	// For an HTTP port (the --http-override's 80): connections that open with an HTTP/1.1 request.
	httpOutcomes map[uint16]map[netip.Addr][]string
	counters     map[string]int64
	ecds         []map[string]any // the ECDS filters Envoy accepted
	listeners    map[string]map[string]any
	ldsReject    int64
	ecdsFail     int64
	passthru     int64
	envoyLog     string
	modulePath   string
	state        int64
}

func (r *result) count(port uint16, want string) (n int) {
	for _, outs := range r.outcomes[port] {
		for _, o := range outs {
			if o == want {
				n++
			}
		}
	}
	return
}

// Names of the filters in the filter chain of a listener that ends in tcp_proxy,
// an ECDS filter as "ecds:<name>".
func chainOf(l map[string]any) []string {
	var chains []any
	chains = append(chains, asList(l["filter_chains"])...)
	if d := l["default_filter_chain"]; d != nil {
		chains = append(chains, d)
	}
	for _, c := range chains {
		var names []string
		tcp := false
		for _, f := range asList(dig(c, "filters")) {
			name, _ := dig(f, "name").(string)
			if dig(f, "config_discovery") != nil {
				name = "ecds:" + name
			}
			if name == "envoy.filters.network.tcp_proxy" {
				tcp = true
			}
			names = append(names, name)
		}
		if tcp {
			return names
		}
	}
	return nil
}

func indexOf(list []string, pred func(string) bool) int {
	for i, s := range list {
		if pred(s) {
			return i
		}
	}
	return -1
}

var errLine = regexp.MustCompile(`(?m)^.*\]\[(error|warning|critical)\]\[(wasm|config|upstream|main)\].*$`)

func runCase(t *testing.T, dir string, fail *failure) *result {
	sc, err := loadScaffold(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := buildWorld(sc)
	if err != nil {
		t.Fatal(err)
	}
	r := &result{outcomes: map[uint16]map[netip.Addr][]string{}, httpOutcomes: map[uint16]map[netip.Addr][]string{}, listeners: map[string]map[string]any{}}
	if sc.find("WasmPlugin") != nil {
		r.api = "WasmPlugin"
	} else {
		r.api = "EnvoyFilter"
	}
	var edit func(d doc)
	if fail != nil && fail.strategy != "" {
		edit = func(d doc) {
			switch d["kind"] {
			case "WasmPlugin":
				d["spec"].(map[string]any)["failStrategy"] = fail.strategy
			case "EnvoyFilter":
				for _, p := range asList(dig(d, "spec", "configPatches")) {
					if c, ok := dig(p, "patch", "value", "typed_config", "config").(map[string]any); ok {
						c["failure_policy"] = fail.strategy
					}
				}
			}
		}
	}
	cfg, err := sc.configString(edit)
	if err != nil {
		t.Fatal(err)
	}

	// The pod network, the capture, the module where the ConfigMap would be mounted.
	_ = run("iptables", "-t", "nat", "-F")
	_ = run("iptables", "-t", "nat", "-X")
	if err := setupNetwork(w); err != nil {
		t.Fatal(err)
	}
	if err := setupIptables(w); err != nil {
		t.Fatal(err)
	}
	modPath, err := sc.modulePath()
	if err != nil {
		t.Fatal(err)
	}
	r.modulePath = modPath
	modDir, err := mountModuleDir(modPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(mountBase(modDir), syscall.MNT_DETACH) })
	switch {
	case fail != nil && fail.missing:
	case fail != nil && fail.garbage:
		if err := os.WriteFile(modPath, []byte("this is not a wasm module\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	default:
		if err := os.WriteFile(modPath, decodeModule(sc.module), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	startEgress(t, w)

	// Istio's control plane, in process: the scaffold's Istio configs as they
	// are, the Services with a clusterIP, Pods and EndpointSlices.
	m := mesh.DefaultMeshConfig()
	if m.DefaultProviders != nil {
		m.DefaultProviders.Metrics = nil // istio.stats exists only in istio-proxy
	}
	fds := xds.NewFakeDiscoveryServer(t, xds.FakeOptions{
		ConfigString:      cfg,
		KubernetesObjects: w.objects,
		MeshConfig:        m,
		ListenerBuilder:   func() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") },
	})
	xdsPort := fds.Listener.Addr().(*net.TCPAddr).Port
	sdsPort, stopSDS, err := startSDS()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopSDS)

	clients := w.pods[clientName]
	if len(clients) == 0 {
		t.Fatalf("no %s Deployment in the scaffold", clientName)
	}
	ns := clients[0].labels["app"]
	_ = ns
	namespace := "default"
	for _, svc := range w.services {
		namespace = svc.Namespace
	}
	work := t.TempDir()
	// uid 1337 must reach its bootstrap: t.TempDir's folders are 0700.
	for _, d := range []string{work, filepath.Dir(work)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = syscall.Unmount(filepath.Join(work, "envoy", "envoy"), syscall.MNT_DETACH) })
	e, err := startEnvoy(envoyBinary(t), filepath.Join(work, "envoy"), bootstrap(clients[0], namespace, xdsPort, sdsPort))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.stop)

	// Wait until the first listener update was applied (or rejected) and nothing is warming.
	deadline := time.Now().Add(30 * time.Second)
	var settledSince time.Time
	for {
		if e.exited() {
			t.Fatalf("envoy exited:\n%s", tail(e.log(), 40))
		}
		lds := stat("listener_manager.lds.update_success") + stat("listener_manager.lds.update_rejected")
		settled := lds > 0 && stat("listener_manager.total_listeners_warming") == 0 &&
			stat("cluster_manager.warming_clusters") == 0
		if settled && stat("server.state") == 0 {
			break
		}
		if !settled {
			settledSince = time.Time{}
		} else if settledSince.IsZero() {
			settledSince = time.Now()
		} else if time.Since(settledSince) > 3*time.Second {
			break // settled, but not live (a rejected resource may hold initialization)
		}
		if time.Now().After(deadline) {
			t.Logf("envoy not settled after 30 s (server.state %d): probing anyway", stat("server.state"))
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)

	var front *corev1.Service
	for _, svc := range w.services {
		if svc.Name == frontService {
			front = svc
		}
	}
	if front == nil {
		t.Fatalf("no Service %q in the scaffold", frontService)
	}
	vip := w.vips[front.Name]
	for _, sp := range front.Spec.Ports {
		port := uint16(sp.Port)
		r.outcomes[port] = map[netip.Addr][]string{}
		isHTTP := (sp.AppProtocol != nil && *sp.AppProtocol == "http") || sp.Name == "http" || strings.HasPrefix(sp.Name, "http-")
		if isHTTP {
			r.httpOutcomes[port] = map[netip.Addr][]string{}
		}
		for _, c := range clients {
			for i := 0; i < perSource; i++ {
				r.outcomes[port][c.ip] = append(r.outcomes[port][c.ip], probe(c.ip, netip.AddrPortFrom(vip, port), rawProbe))
				if isHTTP {
					r.httpOutcomes[port][c.ip] = append(r.httpOutcomes[port][c.ip], probe(c.ip, netip.AddrPortFrom(vip, port), httpProbe))
				}
			}
		}
	}
	time.Sleep(300 * time.Millisecond)

	r.counters, _ = stats("wasmcustom.")
	r.ldsReject = stat("listener_manager.lds.update_rejected")
	// Istio names the cluster's stats "cluster.PassthroughCluster;.…".
	if pt, err := stats("cluster.PassthroughCluster"); err == nil {
		for k, v := range pt {
			if strings.HasSuffix(k, ".upstream_cx_total") {
				r.passthru += v
			}
		}
	}
	if os.Getenv("WASMERANG_ISTIO_DEBUG") != "" {
		_, all, _ := admin("/stats")
		fmt.Println(all)
	}
	r.state = stat("server.state")
	if all, err := stats("extension_config_discovery."); err == nil {
		for k, v := range all {
			if strings.HasSuffix(k, ".config_fail") {
				r.ecdsFail += v
			}
		}
	}
	dump, err := configDump()
	if err != nil {
		t.Fatal(err)
	}
	if ls := section(dump, "ListenersConfigDump"); ls != nil {
		for _, dl := range asList(ls["dynamic_listeners"]) {
			if l, ok := dig(dl, "active_state", "listener").(map[string]any); ok {
				name, _ := l["name"].(string)
				r.listeners[name] = l
			}
		}
	}
	if ec := section(dump, "EcdsConfigDump"); ec != nil {
		for _, f := range asList(ec["ecds_filters"]) {
			if m, ok := dig(f, "ecds_filter").(map[string]any); ok {
				r.ecds = append(r.ecds, m)
			}
		}
	}
	if os.Getenv("WASMERANG_ISTIO_DEBUG") != "" {
		for name, l := range r.listeners {
			b, _ := json.MarshalIndent(l, "", " ")
			fmt.Printf("listener %s:\n%s\n", name, b)
		}
	}
	r.envoyLog = e.log()
	return r
}

func mountBase(dir string) string {
	// The tmpfs sits at the deepest directory that existed before; find it from /proc/self/mounts.
	b, _ := os.ReadFile("/proc/self/mounts")
	best := ""
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 2 && f[2] == "tmpfs" && strings.HasPrefix(dir+"/", f[1]+"/") && len(f[1]) > len(best) {
			best = f[1]
		}
	}
	return best
}

// One connection from src to dst: the first line it reads, or what happened.
// What a probe sends first: the project's probe line, or an HTTP/1.1 request.
const (
	rawProbe  = "wasmerang-probe\n"
	httpProbe = "GET / HTTP/1.1\r\nHost: egress\r\n\r\n"
)

func probe(src netip.Addr, dst netip.AddrPort, first string) string {
	d := net.Dialer{Timeout: 3 * time.Second, LocalAddr: &net.TCPAddr{IP: src.AsSlice()}}
	c, err := d.Dial("tcp", dst.String())
	if err != nil {
		return "connect failed: " + err.Error()
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	// `wasmerang probe istio` sends a line first (echo wasmerang-probe | nc egress PORT).
	if _, err := io.WriteString(c, first); err != nil {
		return "write failed: " + err.Error()
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err == nil {
		return strings.TrimSpace(line)
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, io.EOF):
		return "closed"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	}
	return "error: " + err.Error()
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// The wasm filter's configuration string as Envoy holds it: from the ECDS
// resource (WasmPlugin) or inline in the listener (EnvoyFilter).
func pluginConfigOf(f map[string]any) (string, bool) {
	v, ok := dig(f, "typed_config", "config", "configuration", "value").(string)
	return v, ok
}

func wasmFilters(r *result, port uint16) []map[string]any {
	var out []map[string]any
	for name, l := range r.listeners {
		if !strings.HasSuffix(name, fmt.Sprintf("_%d", port)) {
			continue
		}
		for _, c := range append(asList(l["filter_chains"]), l["default_filter_chain"]) {
			for _, f := range asList(dig(c, "filters")) {
				if dig(f, "name") == "envoy.filters.network.wasm" {
					out = append(out, f.(map[string]any))
				}
			}
		}
	}
	return out
}

func summary(r *result) string {
	var b strings.Builder
	describe(&b, r.outcomes, "a line")
	describe(&b, r.httpOutcomes, "an HTTP/1.1 request")
	var cs []string
	for k, v := range r.counters {
		cs = append(cs, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(cs)
	if len(cs) == 0 {
		cs = []string{"none"}
	}
	fmt.Fprintf(&b, "    filter counters: %s\n", strings.Join(cs, " "))
	fmt.Fprintf(&b, "    PassthroughCluster connections: %d; LDS updates rejected: %d; ECDS config_fail: %d\n", r.passthru, r.ldsReject, r.ecdsFail)
	return b.String()
}

func describe(b *strings.Builder, outcomes map[uint16]map[netip.Addr][]string, sends string) {
	var ports []int
	for p := range outcomes {
		ports = append(ports, int(p))
	}
	sort.Ints(ports)
	for _, p := range ports {
		port := uint16(p)
		var srcs []netip.Addr
		for s := range outcomes[port] {
			srcs = append(srcs, s)
		}
		sort.Slice(srcs, func(i, j int) bool { return srcs[i].Less(srcs[j]) })
		total := 0
		tally := map[string]int{}
		for _, s := range srcs {
			for _, o := range outcomes[port][s] {
				tally[o]++
				total++
			}
		}
		var keys []string
		for k := range tally {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s %d", k, tally[k]))
		}
		fmt.Fprintf(b, "    port %d, %d connections opening with %s, from %d client pod IPs: %s\n", port, total, sends, len(srcs), strings.Join(parts, ", "))
		for _, s := range srcs {
			fmt.Fprintf(b, "      %s -> %s\n", s, strings.Join(outcomes[port][s], " "))
		}
	}
}

func evenIP(a netip.Addr) bool { return a.As4()[3]%2 == 0 }

func TestRouting(t *testing.T) {
	for _, dir := range scaffoldDirs(t) {
		dir := dir
		t.Run(filepath.Base(dir), func(t *testing.T) {
			r := runCase(t, dir, nil)
			sc, err := loadScaffold(dir)
			if err != nil {
				t.Fatal(err)
			}
			wantEven, wantOdd := sc.parityEgresses()
			egresses := sc.egressNames()
			isEgress := func(o string) bool {
				for _, e := range egresses {
					if o == e {
						return true
					}
				}
				return false
			}
			fmt.Printf("\n== %s (%s, Istio's xDS -> Envoy 1.40)\n%s", filepath.Base(dir), r.api, summary(r))
			defer func() {
				if t.Failed() {
					fmt.Printf("    envoy log (errors and warnings):\n%s\n", indent(strings.Join(errLine.FindAllString(r.envoyLog, 30), "\n")))
				}
			}()

			// The egress reached per source: even -> the first egress Service
			// (egress1 unless --cluster names others), odd -> the second, on every
			// TCP port, and on an HTTP port (--http-override) for HTTP/1.1 connections.
			// A connection to an HTTP port that does not open with HTTP is another
			// matter: Istio's http_inspector sends it to the listener's non-HTTP
			// chain, PassthroughCluster, which the override does not replace (measured).
			routedSets := map[uint16]map[netip.Addr][]string{}
			rawOnHTTP := 0
			for port, bySrc := range r.outcomes {
				if r.httpOutcomes[port] == nil {
					routedSets[port] = bySrc
					continue
				}
				for _, outs := range bySrc {
					for _, o := range outs {
						rawOnHTTP++
						if !isEgress(o) {
							t.Errorf("port %d, a line first: %q, want an egress through PassthroughCluster", port, o)
						}
					}
				}
			}
			if rawOnHTTP > 0 {
				if r.passthru != int64(rawOnHTTP) {
					t.Errorf("PassthroughCluster took %d connections, want the %d that opened with a line on an HTTP port", r.passthru, rawOnHTTP)
				}
				fmt.Printf("    FINDING %s: on the HTTP port, %d connections that open with a line (as `probe istio` does) go through PassthroughCluster, unrouted; HTTP/1.1 connections are routed\n", filepath.Base(dir), rawOnHTTP)
			}
			var even, odd int
			for _, set := range []map[uint16]map[netip.Addr][]string{routedSets, r.httpOutcomes} {
				for port, bySrc := range set {
					for src, outs := range bySrc {
						want := wantOdd
						if evenIP(src) {
							want = wantEven
						}
						for _, o := range outs {
							if o != want {
								t.Errorf("port %d: %s reached %q, want %s", port, src, o, want)
							}
						}
						if evenIP(src) {
							even += len(outs)
						} else {
							odd += len(outs)
						}
					}
				}
			}
			var e1, e2 int
			for _, set := range []map[uint16]map[netip.Addr][]string{routedSets, r.httpOutcomes} {
				for _, bySrc := range set {
					for _, outs := range bySrc {
						for _, o := range outs {
							switch o {
							case wantEven:
								e1++
							case wantOdd:
								e2++
							}
						}
					}
				}
			}
			fmt.Printf("    ROUTED %s: %s %d, %s %d (of %d routed connections: even sources %d, odd %d)\n", filepath.Base(dir), wantEven, e1, wantOdd, e2, even+odd, even, odd)
			if wantEven != wantOdd && (e1 == 0 || e2 == 0) {
				t.Errorf("%s reached %d times, %s %d times: want both parities routed", wantEven, e1, wantOdd, e2)
			}

			// The filter's own counters agree: the flagship counts per cluster, a
			// filter from `wasmerang new` (its own root id) counts <root id>.routed.
			if root := sc.rootID(); root != "wasmerang" {
				fmt.Printf("    ROOT ID %s: %s\n", filepath.Base(dir), root)
				key := "wasmcustom." + root + ".routed"
				if got := r.counters[key]; got != int64(even+odd) {
					t.Errorf("%s = %d, want %d", key, got, even+odd)
				}
			} else {
				for _, c := range []struct {
					name string
					want int
				}{{wantEven, even}, {wantOdd, odd}} {
					key := "wasmcustom.wasmerang.routed." + c.name
					if got := r.counters[key]; got != int64(c.want) {
						t.Errorf("%s = %d, want %d", key, got, c.want)
					}
				}
			}
			if rawOnHTTP == 0 && r.passthru > 0 {
				t.Errorf("%d connections went through PassthroughCluster", r.passthru)
			}

			// The filter chain and the configuration the filter received.
			for port := range r.outcomes {
				var names []string
				for n := range r.listeners {
					if strings.HasSuffix(n, fmt.Sprintf("_%d", port)) {
						names = append(names, n)
					}
				}
				sort.Strings(names)
				if len(names) == 0 {
					t.Errorf("no listener for port %d", port)
				}
				for _, n := range names {
					chain := chainOf(r.listeners[n])
					var lf []string
					for _, f := range asList(r.listeners[n]["listener_filters"]) {
						name, _ := dig(f, "name").(string)
						lf = append(lf, name)
					}
					fmt.Printf("    listener %s: %s (listener filters: %s)\n", n, strings.Join(chain, " -> "), strings.Join(lf, ", "))
					tcp := indexOf(chain, func(s string) bool { return s == "envoy.filters.network.tcp_proxy" })
					var w int
					if r.api == "WasmPlugin" {
						w = indexOf(chain, func(s string) bool { return strings.HasPrefix(s, "ecds:") })
					} else {
						w = indexOf(chain, func(s string) bool { return s == "envoy.filters.network.wasm" })
					}
					if tcp < 0 || w < 0 || w > tcp {
						t.Errorf("listener %s: the wasm filter does not stand before tcp_proxy: %v", n, chain)
					}
				}
			}
			if r.api == "WasmPlugin" {
				wp := sc.find("WasmPlugin")
				pc := dig(wp, "spec", "pluginConfig")
				want, _ := json.Marshal(pc) // compact, keys sorted
				if len(r.ecds) != 1 {
					t.Fatalf("Envoy holds %d ECDS filters, want 1", len(r.ecds))
				}
				f := r.ecds[0]
				got, _ := pluginConfigOf(f)
				fmt.Printf("    ECDS %s: pluginConfig string %q, module %v, failure_policy %v\n", dig(f, "name"), got,
					dig(f, "typed_config", "config", "vm_config", "code", "local", "filename"),
					orDefault(dig(f, "typed_config", "config", "failure_policy"), "unset"))
				if got != string(want) {
					t.Errorf("pluginConfig string = %q, want %q", got, want)
				}
				if fn := dig(f, "typed_config", "config", "vm_config", "code", "local", "filename"); fn != r.modulePath {
					t.Errorf("module filename %v, want %s", fn, r.modulePath)
				}
			} else {
				for port := range r.outcomes {
					for _, f := range wasmFilters(r, port) {
						got, _ := pluginConfigOf(f)
						want := ""
						for _, p := range asList(dig(sc.find("EnvoyFilter"), "spec", "configPatches")) {
							if v, ok := dig(p, "patch", "value", "typed_config", "config", "configuration", "value").(string); ok {
								want = v
							}
						}
						if got != want {
							t.Errorf("port %d: configuration %q, want %q", port, got, want)
						}
					}
				}
				fmt.Printf("    inline wasm filters: configuration %q\n", firstConfig(r))
			}
			if m := regexp.MustCompile(`wasmerang: configured [^\n]*`).FindString(r.envoyLog); m != "" {
				fmt.Printf("    filter log: %s\n", m)
			}
		})
	}
}

func firstConfig(r *result) string {
	for port := range r.outcomes {
		for _, f := range wasmFilters(r, port) {
			s, _ := pluginConfigOf(f)
			return s
		}
	}
	return ""
}

func orDefault(v any, d string) any {
	if v == nil {
		return d
	}
	return v
}

func indent(s string) string {
	if s == "" {
		return "      (none)"
	}
	return "      " + strings.ReplaceAll(s, "\n", "\n      ")
}

// What an operator sees in the sidecar's log: the first error about the module.
func firstError(log string) string {
	for _, l := range errLine.FindAllString(log, -1) {
		if strings.Contains(strings.ToLower(l), "wasm") || strings.Contains(l, "rejected") || strings.Contains(l, "gRPC config") {
			if len(l) > 400 {
				l = l[:400] + "…"
			}
			return l
		}
	}
	return "(no error line)"
}

func TestFailure(t *testing.T) {
	for _, dir := range scaffoldDirs(t) {
		base := filepath.Base(dir)
		if strings.Contains(base, "http") || strings.Contains(base, "named") || strings.Contains(base, "project") {
			continue // the failure cases run on the plain variants
		}
		for _, mod := range []string{"missing", "garbage"} {
			for _, strategy := range []string{"FAIL_CLOSE", "FAIL_OPEN"} {
				dir, mod, strategy := dir, mod, strategy
				t.Run(fmt.Sprintf("%s/module_%s/%s", base, mod, strategy), func(t *testing.T) {
					sc, err := loadScaffold(dir)
					if err != nil {
						t.Fatal(err)
					}
					f := &failure{missing: mod == "missing", garbage: mod == "garbage"}
					isWP := sc.find("WasmPlugin") != nil
					switch {
					case isWP:
						f.strategy = strategy
					case strategy == "FAIL_OPEN":
						f.strategy = "FAIL_OPEN" // failure_policy in the inline PluginConfig
					default:
						f.strategy = "" // the scaffold's: no failure_policy (Envoy's default FAIL_CLOSED)
					}
					r := runCase(t, dir, f)
					fmt.Printf("\n== %s, module %s, %s (%s)\n%s", base, mod, strategy, r.api, summary(r))
					fmt.Printf("    sidecar log: %s\n", firstError(r.envoyLog))
					n := 0
					for _, bySrc := range r.outcomes {
						for _, outs := range bySrc {
							n += len(outs)
						}
					}
					if len(r.counters) > 0 {
						for k, v := range r.counters {
							if strings.HasPrefix(k, "wasmcustom.wasmerang.routed.") && v > 0 {
								t.Errorf("%s = %d: the filter ran", k, v)
							}
						}
					}
					if isWP {
						// Measured: Envoy rejects the ECDS resource and closes every
						// connection, with FAIL_OPEN too (failure_policy covers a VM
						// failing at run time, not a module that fails to load).
						closed := 0
						for port := range r.outcomes {
							closed += r.count(port, "closed") + r.count(port, "reset")
						}
						if closed != n {
							t.Errorf("%d of %d connections closed, want all", closed, n)
						}
						if r.ecdsFail == 0 {
							t.Errorf("no ECDS config_fail counted")
						}
						fmt.Printf("    OUTCOME %s module_%s %s: %d/%d connections closed, ECDS rejected (config_fail %d)\n", base, mod, strategy, closed, n, r.ecdsFail)
					} else {
						// Measured: Envoy rejects the listeners of the port; the traffic falls
						// through to PassthroughCluster, unrouted, to the balanced Service.
						reached := 0
						for port := range r.outcomes {
							reached += r.count(port, "egress1") + r.count(port, "egress2")
						}
						if reached != n {
							t.Errorf("%d of %d connections reached an egress, want all (through PassthroughCluster)", reached, n)
						}
						if r.passthru < int64(n) {
							t.Errorf("PassthroughCluster took %d connections, want %d", r.passthru, n)
						}
						if r.ldsReject == 0 {
							t.Errorf("no LDS update rejected")
						}
						for name := range r.listeners {
							if strings.HasSuffix(name, "_9000") {
								t.Errorf("listener %s is active", name)
							}
						}
						fmt.Printf("    OUTCOME %s module_%s %s: %d/%d connections unrouted through PassthroughCluster (egress1 %d, egress2 %d), listeners rejected\n",
							base, mod, strategy, reached, n, r.count(9000, "egress1"), r.count(9000, "egress2"))
					}
				})
			}
		}
	}
}
