package istio

// A stand-in for istio-agent's SDS: it answers the two secrets Istio's
// clusters and listeners name, "default" (a key and certificate) and "ROOTCA"
// (the trust anchor), with one self-signed certificate. Nothing here uses mTLS
// (the egress pods have no sidecar); the secrets only let clusters warm.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	secretv3 "github.com/envoyproxy/go-control-plane/envoy/service/secret/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/anypb"
)

type sdsServer struct {
	secretv3.UnimplementedSecretDiscoveryServiceServer
	certPEM, keyPEM []byte
	requested       chan string
}

func selfSigned() (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{Organization: []string{"wasmerang test"}, CommonName: "wasmerang stand-in CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), nil
}

func inline(b []byte) *core.DataSource {
	return &core.DataSource{Specifier: &core.DataSource_InlineBytes{InlineBytes: b}}
}

func (s *sdsServer) secret(name string) *tlsv3.Secret {
	if name == "ROOTCA" {
		return &tlsv3.Secret{Name: name, Type: &tlsv3.Secret_ValidationContext{
			ValidationContext: &tlsv3.CertificateValidationContext{TrustedCa: inline(s.certPEM)},
		}}
	}
	return &tlsv3.Secret{Name: name, Type: &tlsv3.Secret_TlsCertificate{
		TlsCertificate: &tlsv3.TlsCertificate{CertificateChain: inline(s.certPEM), PrivateKey: inline(s.keyPEM)},
	}}
}

func (s *sdsServer) StreamSecrets(stream secretv3.SecretDiscoveryService_StreamSecretsServer) error {
	sent := map[string]bool{}
	for {
		req, err := stream.Recv()
		if err != nil {
			return err
		}
		var fresh bool
		for _, n := range req.ResourceNames {
			if !sent[n] {
				fresh = true
			}
		}
		if !fresh {
			continue // an ACK or NACK of what was sent
		}
		resp := &discovery.DiscoveryResponse{
			VersionInfo: time.Now().Format(time.RFC3339Nano),
			TypeUrl:     "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret",
			Nonce:       time.Now().Format(time.RFC3339Nano),
		}
		for _, n := range req.ResourceNames {
			a, err := anypb.New(s.secret(n))
			if err != nil {
				return err
			}
			resp.Resources = append(resp.Resources, a)
			sent[n] = true
			select {
			case s.requested <- n:
			default:
			}
		}
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
}

// Serves SDS on a loopback port; returns the port and a stop function.
func startSDS() (int, func(), error) {
	certPEM, keyPEM, err := selfSigned()
	if err != nil {
		return 0, nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, nil, err
	}
	g := grpc.NewServer()
	secretv3.RegisterSecretDiscoveryServiceServer(g, &sdsServer{certPEM: certPEM, keyPEM: keyPEM, requested: make(chan string, 16)})
	go func() { _ = g.Serve(l) }()
	return l.Addr().(*net.TCPAddr).Port, g.Stop, nil
}
