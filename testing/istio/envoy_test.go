package istio

// A vanilla Envoy (the official 1.40 build) as the client pod's sidecar: a
// bootstrap with what istio-agent would give it (node identity and metadata,
// the xds-grpc and sds-grpc clusters), run as uid 1337 so the capture exempts it.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	proxyUID  = 1337
	adminPort = 15000
)

type envoy struct {
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
}

func h2Cluster(name string, port int) map[string]any {
	return map[string]any{
		"name":            name,
		"type":            "STATIC",
		"connect_timeout": "1s",
		"load_assignment": map[string]any{
			"cluster_name": name,
			"endpoints": []any{map[string]any{"lb_endpoints": []any{map[string]any{
				"endpoint": map[string]any{"address": map[string]any{"socket_address": map[string]any{
					"address": "127.0.0.1", "port_value": port,
				}}},
			}}}},
		},
		"typed_extension_protocol_options": map[string]any{
			"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": map[string]any{
				"@type":                "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
				"explicit_http_config": map[string]any{"http2_protocol_options": map[string]any{}},
			},
		},
	}
}

// The bootstrap istio-agent would write, reduced: node id and metadata for the
// pod, ADS to the in-process discovery server, SDS to the stand-in.
func bootstrap(p pod, namespace string, xdsPort, sdsPort int) map[string]any {
	return map[string]any{
		"node": map[string]any{
			"id":      fmt.Sprintf("sidecar~%s~%s.%s~%s.svc.cluster.local", p.ip, p.name, namespace, namespace),
			"cluster": fmt.Sprintf("%s.%s", p.app, namespace),
			"metadata": map[string]any{
				"NAMESPACE":         namespace,
				"NAME":              p.name,
				"LABELS":            p.labels,
				"ANNOTATIONS":       p.annots,
				"CLUSTER_ID":        "Kubernetes",
				"INSTANCE_IPS":      p.ip.String(),
				"INTERCEPTION_MODE": "REDIRECT",
				"WORKLOAD_NAME":     p.app,
				"SERVICE_ACCOUNT":   "default",
				"MESH_ID":           "cluster.local",
				"OWNER":             fmt.Sprintf("kubernetes://apis/apps/v1/namespaces/%s/deployments/%s", namespace, p.app),
			},
		},
		"admin": map[string]any{"address": map[string]any{"socket_address": map[string]any{"address": "127.0.0.1", "port_value": adminPort}}},
		"dynamic_resources": map[string]any{
			"ads_config": map[string]any{
				"api_type":                       "GRPC",
				"transport_api_version":          "V3",
				"set_node_on_first_message_only": true,
				"grpc_services":                  []any{map[string]any{"envoy_grpc": map[string]any{"cluster_name": "xds-grpc"}}},
			},
			"cds_config": map[string]any{"ads": map[string]any{}, "resource_api_version": "V3", "initial_fetch_timeout": "0s"},
			"lds_config": map[string]any{"ads": map[string]any{}, "resource_api_version": "V3", "initial_fetch_timeout": "0s"},
		},
		"static_resources": map[string]any{
			"clusters": []any{h2Cluster("xds-grpc", xdsPort), h2Cluster("sds-grpc", sdsPort)},
		},
		"layered_runtime": map[string]any{"layers": []any{map[string]any{"name": "static", "static_layer": map[string]any{
			"overload.global_downstream_max_connections": 2147483647,
		}}}},
	}
}

func startEnvoy(binary, dir string, boot map[string]any) (*envoy, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "envoy")
	if err := bindFile(binary, bin); err != nil {
		return nil, fmt.Errorf("bind-mount envoy: %w", err)
	}
	b, _ := json.MarshalIndent(boot, "", "  ")
	cfg := filepath.Join(dir, "bootstrap.json")
	if err := os.WriteFile(cfg, b, 0o644); err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "envoy.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-c", cfg, "--disable-hot-restart", "--concurrency", "2",
		"-l", "info", "--component-log-level", "wasm:debug,config:debug",
		"--log-format", "[%Y-%m-%d %T.%e][%l][%n] %v")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: &syscall.Credential{Uid: proxyUID, Gid: proxyUID},
		Setpgid:    true,
		Pdeathsig:  syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	e := &envoy{cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logf.Close(); close(e.done) }()
	return e, nil
}

func (e *envoy) stop() {
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.done:
	case <-time.After(5 * time.Second):
		_ = e.cmd.Process.Kill()
		<-e.done
	}
	_ = syscall.Unmount(filepath.Join(filepath.Dir(e.logPath), "envoy"), 0)
}

func (e *envoy) exited() bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}

func (e *envoy) log() string {
	b, _ := os.ReadFile(e.logPath)
	return string(b)
}

func admin(path string) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("http://127.0.0.1:%d%s", adminPort, path), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// Counters and gauges from /stats whose names start with prefix.
func stats(prefix string) (map[string]int64, error) {
	_, body, err := admin("/stats?filter=" + prefix)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, line := range strings.Split(body, "\n") {
		name, val, ok := strings.Cut(line, ": ")
		if !ok || !strings.HasPrefix(name, prefix) {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64); err == nil {
			out[name] = n
		}
	}
	return out, nil
}

func stat(name string) int64 {
	m, err := stats(name)
	if err != nil {
		return -1
	}
	return m[name]
}

// /config_dump, decoded (with the ECDS and the dynamic listeners).
func configDump() (map[string]any, error) {
	_, body, err := admin("/config_dump")
	if err != nil {
		return nil, err
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		return nil, err
	}
	return d, nil
}

// The config_dump section of the given @type suffix ("ListenersConfigDump", ...).
func section(dump map[string]any, suffix string) map[string]any {
	for _, c := range asList(dump["configs"]) {
		m, _ := c.(map[string]any)
		if t, _ := m["@type"].(string); strings.HasSuffix(t, suffix) {
			return m
		}
	}
	return nil
}
