package openapi

import (
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	openapiv2 "github.com/google/gnostic-models/openapiv2"
	openapiv3 "github.com/google/gnostic-models/openapiv3"
	"github.com/munnerz/goautoneg"
	"google.golang.org/protobuf/proto"
)

// Media types of the documents.
const (
	MediaJSON = "application/json"
	// MediaV2Protobuf is what kubectl and Helm send in Accept for /openapi/v2;
	// responses carry MediaV2ProtobufCanonical, as kube-apiserver's do.
	MediaV2Protobuf          = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
	MediaV2ProtobufCanonical = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
	MediaV3Protobuf          = "application/com.github.proto-openapi.spec.v3@v1.0+protobuf"
	MediaV3ProtobufCanonical = "application/com.github.proto-openapi.spec.v3.v1.0+protobuf"
)

// immutableFor is how long a client may cache a v3 document fetched by its
// hash: forever, in practice, since a new document gets a new hash.
const immutableFor = 365 * 24 * time.Hour

// document is one encoded OpenAPI document. It is kept gzipped only: the
// documents are large (v2 is MiBs of JSON) and compress about sixfold, and
// clients ask for gzip (Go's HTTP client, so kubectl and client-go, does by
// default); a request without it gets the document inflated for it. The
// protobuf form is made on first request, and kept gzipped too.
type document struct {
	gz []byte
	// etag is the upper-case hex SHA-512 of the JSON, as kube-apiserver
	// computes it; it is also the v3 document's hash.
	etag  string
	proto func() ([]byte, error) // gzipped; nil: no protobuf form
}

func newDocument(data []byte, toProto func([]byte) ([]byte, error)) *document {
	sum := sha512.Sum512(data)
	d := &document{gz: gzipBytes(data), etag: strings.ToUpper(hex.EncodeToString(sum[:]))}
	if toProto != nil {
		d.proto = sync.OnceValues(func() ([]byte, error) {
			data, err := gunzip(d.gz)
			if err != nil {
				return nil, err
			}
			pb, err := toProto(data)
			if err != nil {
				return nil, err
			}
			return gzipBytes(pb), nil
		})
	}
	return d
}

func gzipBytes(data []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	_, _ = zw.Write(data)
	_ = zw.Close()
	return bytes.Clone(buf.Bytes()) // no spare capacity kept
}

func gunzip(gz []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

func toV2Proto(data []byte) ([]byte, error) {
	doc, err := openapiv2.ParseDocument(data)
	if err != nil {
		return nil, err
	}
	return proto.Marshal(doc)
}

func toV3Proto(data []byte) ([]byte, error) {
	doc, err := openapiv3.ParseDocument(data)
	if err != nil {
		return nil, err
	}
	return proto.Marshal(doc)
}

// ServeHTTP serves
//
//	/openapi/v2       swagger 2.0, JSON or (by Accept) protobuf
//	/openapi/v3       the index of v3 documents with their hashed URLs
//	/openapi/v3/KEY   one v3 document, e.g. KEY "api/v1", "apis/apps/v1"
//
// with ETags and If-None-Match (304). A v3 document fetched with its current
// hash is immutable and says so in Cache-Control; a stale hash redirects to
// the current URL. Unknown paths and documents are 404.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	snap := s.snap.Load()
	p := r.URL.Path
	switch {
	case p == "/openapi/v2":
		doc, err := snap.v2()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		serveNegotiated(w, r, doc, MediaV2Protobuf, MediaV2ProtobufCanonical)
	case p == "/openapi/v3" || p == "/openapi/v3/":
		doc, err := snap.v3Index()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		serveNegotiated(w, r, doc, "", "")
	case strings.HasPrefix(p, "/openapi/v3/"):
		key := strings.TrimPrefix(p, "/openapi/v3/")
		lazy, ok := snap.v3[key]
		if !ok {
			http.Error(w, "openapi: no document "+strconv.Quote(key), http.StatusNotFound)
			return
		}
		doc, err := lazy()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if hash := r.URL.Query().Get("hash"); hash != "" {
			if hash != doc.etag {
				u := url.URL{Path: p, RawQuery: url.Values{"hash": {doc.etag}}.Encode()}
				http.Redirect(w, r, u.String(), http.StatusMovedPermanently)
				return
			}
			w.Header().Set("Cache-Control", "public, immutable, max-age="+strconv.Itoa(int(immutableFor.Seconds())))
		}
		serveNegotiated(w, r, doc, MediaV3Protobuf, MediaV3ProtobufCanonical)
	default:
		http.NotFound(w, r)
	}
}

// serveNegotiated writes doc as JSON or, when Accept prefers it and doc has
// one, protobuf (accepted under either name protoMedia or protoCanonical).
func serveNegotiated(w http.ResponseWriter, r *http.Request, doc *document, protoMedia, protoCanonical string) {
	h := w.Header()
	h.Add("Vary", "Accept")
	h.Add("Vary", "Accept-Encoding")
	accept := r.Header.Get("Accept")
	if accept == "" {
		accept = "*/*"
	}
	for _, clause := range goautoneg.ParseAccept(accept) {
		if clause.Q <= 0 {
			continue
		}
		media := clause.Type + "/" + clause.SubType
		switch {
		case clause.Type == "*" || media == "application/*" || media == MediaJSON:
			writeEncoded(w, r, MediaJSON, doc.etag, doc.gz)
			return
		case doc.proto != nil && (media == protoMedia || media == protoCanonical):
			pb, err := doc.proto()
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			writeEncoded(w, r, protoCanonical, doc.etag+"-pb", pb)
			return
		}
	}
	http.Error(w, "openapi: none of the accepted media types can be served: "+accept, http.StatusNotAcceptable)
}

// writeEncoded writes gzipped data as it is when the client accepts gzip,
// inflated otherwise, with a strong ETag per representation.
// http.ServeContent answers If-None-Match with 304 and handles HEAD and
// ranges.
func writeEncoded(w http.ResponseWriter, r *http.Request, contentType, etag string, gz []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	data := gz
	if acceptsGzip(r) {
		etag += "-gz"
		h.Set("Content-Encoding", "gzip")
	} else if !etagMatches(r, etag) {
		var err error
		if data, err = gunzip(gz); err != nil {
			http.Error(w, "openapi: "+err.Error(), http.StatusInternalServerError)
			return
		}
	}
	h.Set("ETag", strconv.Quote(etag))
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}

// etagMatches: If-None-Match names etag, so the answer is 304 and the body
// is not needed.
func etagMatches(r *http.Request, etag string) bool {
	inm := r.Header.Get("If-None-Match")
	return inm != "" && (inm == "*" || strings.Contains(inm, strconv.Quote(etag)))
}

// acceptsGzip reports whether Accept-Encoding lists gzip with a non-zero q.
func acceptsGzip(r *http.Request) bool {
	for _, coding := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(coding, ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		q, found := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q=")
		if !found {
			return true
		}
		v, err := strconv.ParseFloat(q, 64)
		return err == nil && v > 0
	}
	return false
}
