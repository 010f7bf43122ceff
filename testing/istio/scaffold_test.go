package istio

// Reading a folder written by `wasmerang scaffold istio`: the Istio configs go
// to the fake discovery server as they are (or with one field changed for a
// failure case); the Services get a clusterIP; each Deployment becomes Pods
// with fixed pod IPs, and each Service an EndpointSlice of the Pods it selects.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// A document of a manifest file, as generic data.
type doc = map[string]any

type scaffold struct {
	dir         string
	istioDocs   []doc // WasmPlugin, EnvoyFilter, Sidecar, ...
	services    []*corev1.Service
	deployments []*appsv1.Deployment
	module      []byte // the ConfigMap's binaryData
	moduleKey   string
	files       []string
}

func readDocs(path string) ([]doc, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []doc
	for _, part := range strings.Split("\n"+string(raw), "\n---\n") {
		var d doc
		if err := yaml.Unmarshal([]byte(part), &d); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(d) > 0 {
			out = append(out, d)
		}
	}
	return out, nil
}

func convert(d doc, into any) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, into)
}

func loadScaffold(dir string) (*scaffold, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	s := &scaffold{dir: dir}
	for _, f := range files {
		docs, err := readDocs(f)
		if err != nil {
			return nil, err
		}
		for _, d := range docs {
			api, _ := d["apiVersion"].(string)
			kind, _ := d["kind"].(string)
			switch {
			case strings.Contains(api, "istio.io/"):
				s.istioDocs = append(s.istioDocs, d)
			case kind == "Service":
				var svc corev1.Service
				if err := convert(d, &svc); err != nil {
					return nil, err
				}
				s.services = append(s.services, &svc)
			case kind == "Deployment":
				var dep appsv1.Deployment
				if err := convert(d, &dep); err != nil {
					return nil, err
				}
				s.deployments = append(s.deployments, &dep)
			case kind == "ConfigMap":
				var cm corev1.ConfigMap
				if err := convert(d, &cm); err != nil {
					return nil, err
				}
				for k, v := range cm.BinaryData {
					s.module, s.moduleKey = v, k
				}
			default:
				// kind's Cluster config, NetworkPolicy: not Istio's business here.
			}
		}
		s.files = append(s.files, filepath.Base(f))
	}
	if s.module == nil {
		return nil, fmt.Errorf("%s: no ConfigMap with the module", dir)
	}
	return s, nil
}

// The first Istio document of a kind (WasmPlugin, EnvoyFilter, Sidecar).
func (s *scaffold) find(kind string) doc {
	for _, d := range s.istioDocs {
		if d["kind"] == kind {
			return d
		}
	}
	return nil
}

// The Istio configs as one YAML string, after edit (which may change a copy).
func (s *scaffold) configString(edit func(d doc)) (string, error) {
	var parts []string
	for _, d := range s.istioDocs {
		var c doc
		if err := convert(d, &c); err != nil { // deep copy
			return "", err
		}
		if edit != nil {
			edit(c)
		}
		b, err := yaml.Marshal(c)
		if err != nil {
			return "", err
		}
		parts = append(parts, string(b))
	}
	return strings.Join(parts, "---\n"), nil
}

// The egress Services the scaffold writes, in its order (the front Service
// "egress", which selects them all, left out): the first is the filter's
// choice for an even client pod IP, the second for an odd one. Taken from the
// workloads, not from the filter's configuration, so a configuration that
// names other clusters than the scaffold's Services fails the routing check.
func (s *scaffold) egressNames() []string {
	var names []string
	for _, svc := range s.services {
		if svc.Name != frontService {
			names = append(names, svc.Name)
		}
	}
	return names
}

// The egress an even and an odd client pod IP must reach.
func (s *scaffold) parityEgresses() (even, odd string) {
	names := s.egressNames()
	switch len(names) {
	case 0:
		return "", ""
	case 1:
		return names[0], names[0]
	}
	return names[0], names[1]
}

// The root id the sidecars start the filter under: the WasmPlugin's
// pluginName (Istio's root_id), else the EnvoyFilter's root_id.
func (s *scaffold) rootID() string {
	if wp := s.find("WasmPlugin"); wp != nil {
		if name, ok := dig(wp, "spec", "pluginName").(string); ok {
			return name
		}
	}
	if ef := s.find("EnvoyFilter"); ef != nil {
		for _, p := range asList(dig(ef, "spec", "configPatches")) {
			if id, ok := dig(p, "patch", "value", "typed_config", "config", "root_id").(string); ok {
				return id
			}
		}
	}
	return ""
}

// The module's path inside the sidecar: the WasmPlugin's file:// url, or the
// EnvoyFilter's vm_config.code.local.filename.
func (s *scaffold) modulePath() (string, error) {
	if wp := s.find("WasmPlugin"); wp != nil {
		url, _ := dig(wp, "spec", "url").(string)
		if !strings.HasPrefix(url, "file://") {
			return "", fmt.Errorf("WasmPlugin url %q is not file://", url)
		}
		return strings.TrimPrefix(url, "file://"), nil
	}
	if ef := s.find("EnvoyFilter"); ef != nil {
		for _, p := range asList(dig(ef, "spec", "configPatches")) {
			if f, ok := dig(p, "patch", "value", "typed_config", "config", "vm_config", "code", "local", "filename").(string); ok {
				return f, nil
			}
		}
	}
	return "", fmt.Errorf("no WasmPlugin or EnvoyFilter with a local module")
}

func dig(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// The cluster the test builds from the scaffold.
type world struct {
	objects  []runtime.Object
	vips     map[string]netip.Addr // Service name -> clusterIP
	pods     map[string][]pod      // Deployment name -> its pods
	services []*corev1.Service
}

type pod struct {
	name   string
	ip     netip.Addr
	labels map[string]string
	annots map[string]string
	app    string // the Deployment's name
}

const (
	vipBase = "10.96.0.10"
	// The client pods get 10.244.0.6, .7, ... (both parities); the others .21, .22, ...
	clientIPBase = "10.244.0.6"
	otherIPBase  = "10.244.0.21"
	clientName   = "wasmerang-client"
)

func buildWorld(s *scaffold) (*world, error) {
	w := &world{vips: map[string]netip.Addr{}, pods: map[string][]pod{}}
	vip := netip.MustParseAddr(vipBase)
	for _, svc := range s.services {
		c := svc.DeepCopy()
		c.Spec.ClusterIP = vip.String()
		c.Spec.ClusterIPs = []string{vip.String()}
		c.Spec.Type = corev1.ServiceTypeClusterIP
		w.vips[c.Name] = vip
		vip = vip.Next()
		w.services = append(w.services, c)
		w.objects = append(w.objects, c)
	}
	w.objects = append(w.objects, &corev1.Node{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Node"},
		ObjectMeta: metav1.ObjectMeta{Name: "node-0"},
	})
	clientIP := netip.MustParseAddr(clientIPBase)
	otherIP := netip.MustParseAddr(otherIPBase)
	var allPods []*corev1.Pod
	for _, dep := range s.deployments {
		replicas := int32(1)
		if dep.Spec.Replicas != nil {
			replicas = *dep.Spec.Replicas
		}
		for i := int32(0); i < replicas; i++ {
			var ip netip.Addr
			if dep.Name == clientName {
				ip, clientIP = clientIP, clientIP.Next()
			} else {
				ip, otherIP = otherIP, otherIP.Next()
			}
			name := fmt.Sprintf("%s-%d", dep.Name, i)
			p := &corev1.Pod{
				TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
				ObjectMeta: metav1.ObjectMeta{
					Name:        name,
					Namespace:   dep.Namespace,
					Labels:      dep.Spec.Template.Labels,
					Annotations: dep.Spec.Template.Annotations,
				},
				Spec: *dep.Spec.Template.Spec.DeepCopy(),
				Status: corev1.PodStatus{
					Phase:  corev1.PodRunning,
					PodIP:  ip.String(),
					PodIPs: []corev1.PodIP{{IP: ip.String()}},
					Conditions: []corev1.PodCondition{
						{Type: corev1.PodReady, Status: corev1.ConditionTrue},
					},
				},
			}
			p.Spec.NodeName = "node-0"
			if p.Spec.ServiceAccountName == "" {
				p.Spec.ServiceAccountName = "default"
			}
			allPods = append(allPods, p)
			w.objects = append(w.objects, p)
			w.pods[dep.Name] = append(w.pods[dep.Name], pod{name: name, ip: ip, labels: p.Labels, annots: p.Annotations, app: dep.Name})
		}
	}
	for _, svc := range w.services {
		sel := labels.SelectorFromSet(svc.Spec.Selector)
		slice := &discoveryv1.EndpointSlice{
			TypeMeta: metav1.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice"},
			ObjectMeta: metav1.ObjectMeta{
				Name:      svc.Name + "-0",
				Namespace: svc.Namespace,
				Labels:    map[string]string{discoveryv1.LabelServiceName: svc.Name},
			},
			AddressType: discoveryv1.AddressTypeIPv4,
		}
		for _, sp := range svc.Spec.Ports {
			name, port, proto := sp.Name, int32(sp.TargetPort.IntValue()), sp.Protocol
			if port == 0 {
				port = sp.Port
			}
			slice.Ports = append(slice.Ports, discoveryv1.EndpointPort{Name: &name, Port: &port, Protocol: &proto, AppProtocol: sp.AppProtocol})
		}
		ready := true
		for _, p := range allPods {
			if p.Namespace != svc.Namespace || !sel.Matches(labels.Set(p.Labels)) {
				continue
			}
			node := p.Spec.NodeName
			slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{
				Addresses:  []string{p.Status.PodIP},
				Conditions: discoveryv1.EndpointConditions{Ready: &ready},
				NodeName:   &node,
				TargetRef:  &corev1.ObjectReference{Kind: "Pod", Name: p.Name, Namespace: p.Namespace},
			})
		}
		w.objects = append(w.objects, slice)
	}
	return w, nil
}

// The endpoints (pod IP, target port) behind a Service port, for the kube-proxy stand-in.
func (w *world) backends(svc *corev1.Service, sp corev1.ServicePort) []netip.AddrPort {
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	var out []netip.AddrPort
	port := uint16(sp.TargetPort.IntValue())
	if port == 0 {
		port = uint16(sp.Port)
	}
	for _, pods := range w.pods {
		for _, p := range pods {
			if sel.Matches(labels.Set(p.labels)) {
				out = append(out, netip.AddrPortFrom(p.ip, port))
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Addr().Less(out[j].Addr()) })
	return out
}

func decodeModule(b []byte) []byte {
	// binaryData arrives already base64-decoded by the typed ConfigMap.
	if len(b) >= 4 && string(b[:4]) == "\x00asm" {
		return b
	}
	if d, err := base64.StdEncoding.DecodeString(string(b)); err == nil {
		return d
	}
	return b
}
