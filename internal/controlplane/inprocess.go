package controlplane

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"

	"k8s.io/client-go/rest"

	"skiff.dev/skiff/internal/auth"
)

// inProcess is the transport of the control plane's own clients (the
// scheduler, the controllers, the built-in node agent): a request goes
// straight to the API handler as the loopback user, without TLS, HTTP/2
// framing or a socket, and its response comes back from a buffer. With
// ten thousand pods bound and started, the loopback clients send three of
// every four writes, and that machinery on both ends was a tenth of the
// server's CPU.
//
// Long-running requests (watches, and the streaming subresources) need a
// response streamed while the handler runs: they go over the network
// transport, to the same server.
type inProcess struct {
	api     http.Handler
	user    *auth.User
	network http.RoundTripper
}

func (t *inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	if streamed(req) {
		return t.network.RoundTrip(req)
	}
	r := req.WithContext(auth.WithUser(req.Context(), t.user))
	if r.Body == nil {
		r.Body = http.NoBody
	}
	r.RequestURI = req.URL.RequestURI()
	r.RemoteAddr = "127.0.0.1:0"
	w := &bufferedResponse{header: http.Header{}}
	err := serve(t.api, w, r)
	if req.Body != nil {
		req.Body.Close() // a RoundTripper closes the request body
	}
	if err != nil {
		return nil, err
	}
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return &http.Response{
		Status:        strconv.Itoa(w.code) + " " + http.StatusText(w.code),
		StatusCode:    w.code,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        w.header,
		Body:          io.NopCloser(&w.body),
		ContentLength: int64(w.body.Len()),
		Request:       req,
	}, nil
}

// serve runs h on r. A handler that panics fails the request, not the
// caller, as net/http's server recovers a handler's panic for its
// connection: logged, and the client sees the request fail.
func serve(h http.Handler, w http.ResponseWriter, r *http.Request) (err error) {
	defer func() {
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				slog.Error("panic serving an in-process request", "method", r.Method, "path", r.URL.Path,
					"panic", p, "stack", string(debug.Stack()))
			}
			err = fmt.Errorf("in-process request %s %s: the handler panicked: %v", r.Method, r.URL.Path, p)
		}
	}()
	h.ServeHTTP(w, r)
	return nil
}

// streamed reports requests whose response is a stream: watches and the
// log, exec, attach, port-forward and proxy subresources.
func streamed(req *http.Request) bool {
	if w := req.URL.Query().Get("watch"); w == "true" || w == "1" {
		return true
	}
	for seg := range strings.SplitSeq(req.URL.Path, "/") {
		switch seg {
		case "watch", "log", "exec", "attach", "portforward", "proxy":
			return true
		}
	}
	return false
}

// bufferedResponse is an http.ResponseWriter that keeps the response.
type bufferedResponse struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (w *bufferedResponse) Header() http.Header { return w.header }

func (w *bufferedResponse) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *bufferedResponse) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.body.Write(p)
}

// Flush does nothing: the whole response is returned at once.
func (w *bufferedResponse) Flush() {}

// inProcessConfig is network (a loopback client config with the admin
// certificate) made to send its requests through inProcess to api, as
// the user the certificate authenticates as with authn.
func inProcessConfig(network *rest.Config, api http.Handler, authn auth.Authenticator) (*rest.Config, error) {
	user, err := certificateUser(network.TLSClientConfig.CertData, authn)
	if err != nil {
		return nil, err
	}
	rt, err := rest.TransportFor(network)
	if err != nil {
		return nil, err
	}
	c := rest.CopyConfig(network)
	c.TLSClientConfig = rest.TLSClientConfig{}
	c.Dial = nil
	c.Transport = &inProcess{api: api, user: user, network: rt}
	return c, nil
}

// certificateUser is who a client presenting certPEM is to authn.
func certificateUser(certPEM []byte, authn auth.Authenticator) (*auth.User, error) {
	block, _ := pem.Decode(certPEM)
	if block == nil {
		return nil, errors.New("loopback: no certificate in the client certificate PEM")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("loopback: %w", err)
	}
	u, ok, err := authn.Authenticate(&http.Request{TLS: &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}})
	if err != nil || !ok {
		return nil, fmt.Errorf("loopback: the client certificate does not authenticate: %v", err)
	}
	return u, nil
}
