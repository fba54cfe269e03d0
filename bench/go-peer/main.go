// Command go-peer is the Go webhook that `npm run bench` measures lameduck against: the smallest
// kubebuilder-style controller-runtime webhook that gives Pods the same preStop sleep and grace
// period as lameduck does, from the same namespace annotations. It serves with controller-runtime's
// own webhook.Server (its TLS, timeouts and cert watcher) and admission.Webhook (its decoding, uid
// handling and PatchResponseFromRaw diff), with HTTP/2 disabled as kubebuilder's scaffold does, so
// the API server talks HTTP/1.1 to it as it does to lameduck. One JSON log line per admission, as
// lameduck writes. Namespaces come from a JSON file (a list of Namespace objects): in the benchmark
// neither webhook runs an informer, and the hot path of both is a map lookup.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/go-logr/zapr"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

func main() {
	host := flag.String("host", "127.0.0.1", "address to listen on")
	port := flag.Int("port", 9443, "HTTPS port")
	certDir := flag.String("cert-dir", "", "directory holding tls.crt and tls.key")
	namespacesFile := flag.String("namespaces-file", "", "JSON list of Namespace objects")
	cpuProfile := flag.String("cpu-profile", "", "write a CPU profile here until the process stops")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			panic(err)
		}
		_ = pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	// JSON lines without zap's sampling (controller-runtime's production default keeps 100 a second
	// and then every 100th): one line per admission, as lameduck writes.
	config := zap.NewProductionConfig()
	config.Sampling = nil
	zapLogger, err := config.Build()
	if err != nil {
		panic(err)
	}
	logf.SetLogger(zapr.NewLogger(zapLogger))
	log := logf.Log.WithName("go-peer")

	namespaces, err := readNamespaces(*namespacesFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	server := webhook.NewServer(webhook.Options{
		Host:    *host,
		Port:    *port,
		CertDir: *certDir,
		// kubebuilder's scaffold: HTTP/2 off unless asked for (CVE-2023-44487, HTTP/2 rapid reset).
		TLSOpts: []func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }},
	})
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		panic(err)
	}
	server.Register("/mutate", &admission.Webhook{Handler: &injector{namespaces: namespaces, log: log, decoder: admission.NewDecoder(scheme)}})
	server.WebhookMux().HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"ok":true}`)) })

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := server.Start(ctx); err != nil {
		log.Error(err, "server failed")
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func readNamespaces(path string) (map[string]*corev1.Namespace, error) {
	byName := map[string]*corev1.Namespace{}
	if path == "" {
		return byName, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--namespaces-file: %w", err)
	}
	var list []corev1.Namespace
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("--namespaces-file %s: not a JSON list of Namespaces: %w", path, err)
	}
	for i := range list {
		byName[list[i].Name] = &list[i]
	}
	return byName, nil
}
