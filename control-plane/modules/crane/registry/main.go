// The node's registry: go-containerregistry's registry handler (the one `crane registry serve`
// runs), its blobs on disk, served over HTTPS with the certificate the cluster made for it
// (control-plane/registry.ts), or over plain HTTP without one. crane's own command has no TLS
// option; this is that command's server with ListenAndServeTLS.
package main

import (
	"crypto/tls"
	"flag"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

// Set at build time (control-plane/tools.ts): go-containerregistry's version.
var version = "unknown"

func main() {
	address := flag.String("address", "", "HOST:PORT to listen on")
	disk := flag.String("disk", "", "folder of the blobs")
	cert := flag.String("tls-cert", "", "PEM certificate (and chain) to serve; plain HTTP without")
	key := flag.String("tls-key", "", "PEM key of --tls-cert")
	flag.Parse()
	if *address == "" || *disk == "" || (*cert == "") != (*key == "") {
		log.Println("usage: registry --address HOST:PORT --disk DIR [--tls-cert FILE --tls-key FILE]")
		os.Exit(2)
	}
	server := &http.Server{
		Addr:              *address,
		ReadHeaderTimeout: 5 * time.Second,
		Handler:           registry.New(registry.WithBlobHandler(registry.NewDiskBlobHandler(*disk))),
		// HTTP/1.1 only. The handler holds one lock while it reads an upload's body (PATCH); over
		// HTTP/2 crane sends its layers as streams of one connection, the streams waiting for the
		// lock stop reading, their data fills the connection's flow-control window, and the upload
		// holding the lock never gets the rest of its body: the first push into an empty registry
		// hung for good. One connection per upload, as HTTP/1.1 makes, cannot block another.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	log.Printf("go-containerregistry %s: blobs in %s; serving on %s (TLS: %t)", version, *disk, *address, *cert != "")
	var err error
	if *cert != "" {
		err = server.ListenAndServeTLS(*cert, *key)
	} else {
		err = server.ListenAndServe()
	}
	log.Fatalln(err)
}
