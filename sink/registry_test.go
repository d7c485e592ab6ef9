package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

const ordersSchema = `{"type":"record","name":"Orders","fields":[{"name":"id","type":"long"}]}`

// newTestRegistry creates a Registry for url with backoffs short enough for
// unit tests.
func newTestRegistry(t *testing.T, cfg RegistryConfig) *Registry {
	t.Helper()
	r, err := NewRegistry(cfg)
	if err != nil {
		t.Fatalf("NewRegistry(%+v): %v", cfg, err)
	}
	r.minBackoff = time.Millisecond
	r.maxBackoff = 20 * time.Millisecond
	return r
}

// writeJSON sends a response with the registry's media type.
func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func TestRegistryRegisterUnderPathPrefix(t *testing.T) {
	var gotPath, gotMethod string
	var gotBody map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		gotPath, gotMethod = req.URL.Path, req.Method
		if err := json.NewDecoder(req.Body).Decode(&gotBody); err != nil {
			t.Errorf("decode request body: %v", err)
		}
		writeJSON(w, http.StatusOK, `{"id":7}`)
	}))
	defer srv.Close()

	// The trailing slash must not produce a double slash in request paths.
	r := newTestRegistry(t, RegistryConfig{URL: srv.URL + "/apis/ccompat/v7/"})
	id, err := r.Register(context.Background(), "shop.orders-value", ordersSchema)
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	if id != 7 {
		t.Errorf("id = %d, want 7", id)
	}
	if gotMethod != http.MethodPost {
		t.Errorf("method = %s, want POST", gotMethod)
	}
	if want := "/apis/ccompat/v7/subjects/shop.orders-value/versions"; gotPath != want {
		t.Errorf("path = %q, want %q", gotPath, want)
	}
	if gotBody["schema"] != ordersSchema {
		t.Errorf("schema in request = %v, want %s", gotBody["schema"], ordersSchema)
	}
	// AVRO is the default schema type, so the field may be left out.
	if schemaType, ok := gotBody["schemaType"]; ok && schemaType != "AVRO" {
		t.Errorf("schemaType = %v, want AVRO or none", schemaType)
	}
}

func TestRegistrySendsBasicAuth(t *testing.T) {
	var user, password string
	var ok bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		user, password, ok = req.BasicAuth()
		writeJSON(w, http.StatusOK, `{"id":1}`)
	}))
	defer srv.Close()

	r := newTestRegistry(t, RegistryConfig{URL: srv.URL, Username: "sluice", Password: "s3cret:with-colon"})
	if _, err := r.Register(context.Background(), "t-key", ordersSchema); err != nil {
		t.Fatalf("Register: %v", err)
	}
	if !ok {
		t.Fatal("request has no basic authorization header")
	}
	if user != "sluice" {
		t.Errorf("user = %q, want sluice", user)
	}
	if password != "s3cret:with-colon" {
		t.Errorf("password = %q, want s3cret:with-colon", password)
	}
}

func TestRegistryWithoutCredentialsSendsNoAuth(t *testing.T) {
	var header string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		header = req.Header.Get("Authorization")
		writeJSON(w, http.StatusOK, `{"id":1}`)
	}))
	defer srv.Close()

	r := newTestRegistry(t, RegistryConfig{URL: srv.URL})
	if _, err := r.Register(context.Background(), "t-key", ordersSchema); err != nil {
		t.Fatalf("Register: %v", err)
	}
	if header != "" {
		t.Errorf("Authorization = %q, want none", header)
	}
}

func TestRegistryCachesRegistrations(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		n := calls.Add(1)
		writeJSON(w, http.StatusOK, fmt.Sprintf(`{"id":%d}`, n))
	}))
	defer srv.Close()
	r := newTestRegistry(t, RegistryConfig{URL: srv.URL})
	ctx := context.Background()

	first, err := r.Register(ctx, "t-value", ordersSchema)
	if err != nil {
		t.Fatalf("first Register: %v", err)
	}
	second, err := r.Register(ctx, "t-value", ordersSchema)
	if err != nil {
		t.Fatalf("second Register: %v", err)
	}
	if second != first {
		t.Errorf("second id = %d, want the cached %d", second, first)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("registry got %d requests for one schema registered twice, want 1", n)
	}

	// Another subject, or another text under the same subject, is a new registration.
	if _, err := r.Register(ctx, "t-key", ordersSchema); err != nil {
		t.Fatalf("Register under t-key: %v", err)
	}
	evolved := strings.Replace(ordersSchema, `"long"}`, `"long"},{"name":"note","type":["null","string"],"default":null}`, 1)
	if _, err := r.Register(ctx, "t-value", evolved); err != nil {
		t.Fatalf("Register evolved schema: %v", err)
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("registry got %d requests, want 3 (one per subject and schema text)", n)
	}
}

func TestRegistryConcurrentRegisterSendsOnce(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		calls.Add(1)
		<-release
		writeJSON(w, http.StatusOK, `{"id":42}`)
	}))
	defer srv.Close()
	r := newTestRegistry(t, RegistryConfig{URL: srv.URL})

	const callers = 8
	var wg sync.WaitGroup
	ids := make([]int, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[i], errs[i] = r.Register(context.Background(), "t-value", ordersSchema)
		}()
	}
	// Let every caller reach Register before the one request completes.
	time.Sleep(100 * time.Millisecond)
	close(release)
	wg.Wait()

	for i := range callers {
		if errs[i] != nil {
			t.Errorf("caller %d: %v", i, errs[i])
		}
		if ids[i] != 42 {
			t.Errorf("caller %d: id = %d, want 42", i, ids[i])
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("registry got %d requests from %d concurrent callers, want 1", n, callers)
	}
}

func TestRegistryIncompatibleNamesSubjectLevel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch {
		case req.Method == http.MethodPost && req.URL.Path == "/subjects/t-value/versions":
			writeJSON(w, http.StatusConflict, `{"error_code":409,"message":"Schema being registered is incompatible with an earlier schema"}`)
		case req.Method == http.MethodGet && req.URL.Path == "/config/t-value":
			writeJSON(w, http.StatusOK, `{"compatibilityLevel":"FULL"}`)
		default:
			t.Errorf("unexpected request %s %s", req.Method, req.URL.Path)
			writeJSON(w, http.StatusNotFound, `{"error_code":404,"message":"not found"}`)
		}
	}))
	defer srv.Close()
	r := newTestRegistry(t, RegistryConfig{URL: srv.URL})

	_, err := r.Register(context.Background(), "t-value", ordersSchema)
	if !errors.Is(err, ErrIncompatible) {
		t.Fatalf("err = %v, want one wrapping ErrIncompatible", err)
	}
	for _, part := range []string{`"t-value"`, "FULL", "incompatible with an earlier schema", srv.URL} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not contain %q", err, part)
		}
	}
}

func TestRegistryIncompatibleFallsBackToGlobalLevel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch req.URL.Path {
		case "/subjects/t-value/versions":
			writeJSON(w, http.StatusConflict, `{"error_code":409,"message":"incompatible"}`)
		case "/config/t-value":
			writeJSON(w, http.StatusNotFound, `{"error_code":40408,"message":"Subject 't-value' does not have subject-level compatibility configured"}`)
		case "/config":
			writeJSON(w, http.StatusOK, `{"compatibilityLevel":"BACKWARD_TRANSITIVE"}`)
		default:
			t.Errorf("unexpected request %s %s", req.Method, req.URL.Path)
		}
	}))
	defer srv.Close()
	r := newTestRegistry(t, RegistryConfig{URL: srv.URL})

	_, err := r.Register(context.Background(), "t-value", ordersSchema)
	if !errors.Is(err, ErrIncompatible) {
		t.Fatalf("err = %v, want one wrapping ErrIncompatible", err)
	}
	if !strings.Contains(err.Error(), "BACKWARD_TRANSITIVE (the registry's global level)") {
		t.Errorf("error %q does not name the global level BACKWARD_TRANSITIVE", err)
	}
}

// TestRegistryIncompatibleSubjectDefaultsToGlobal serves the subject's
// config lookup as Apicurio Registry 3 does: NONE for a subject without a
// level of its own, unless defaultToGlobal requests the level that applies.
func TestRegistryIncompatibleSubjectDefaultsToGlobal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch req.URL.Path {
		case "/subjects/t-value/versions":
			writeJSON(w, http.StatusConflict, `{"error_code":409,"message":"incompatible"}`)
		case "/config/t-value":
			if req.URL.Query().Get("defaultToGlobal") == "true" {
				writeJSON(w, http.StatusOK, `{"compatibilityLevel":"BACKWARD"}`)
			} else {
				writeJSON(w, http.StatusOK, `{"compatibilityLevel":"NONE"}`)
			}
		default:
			t.Errorf("unexpected request %s %s", req.Method, req.URL.Path)
		}
	}))
	defer srv.Close()
	r := newTestRegistry(t, RegistryConfig{URL: srv.URL})

	_, err := r.Register(context.Background(), "t-value", ordersSchema)
	if !errors.Is(err, ErrIncompatible) {
		t.Fatalf("err = %v, want one wrapping ErrIncompatible", err)
	}
	if !strings.Contains(err.Error(), "under compatibility level BACKWARD:") {
		t.Errorf("error %q does not name the level BACKWARD", err)
	}
}

func TestRegistryIncompatibleIsNotCached(t *testing.T) {
	var posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodPost {
			if posts.Add(1) == 1 {
				writeJSON(w, http.StatusConflict, `{"error_code":409,"message":"incompatible"}`)
				return
			}
			writeJSON(w, http.StatusOK, `{"id":3}`)
			return
		}
		writeJSON(w, http.StatusOK, `{"compatibilityLevel":"FULL"}`)
	}))
	defer srv.Close()
	r := newTestRegistry(t, RegistryConfig{URL: srv.URL})

	if _, err := r.Register(context.Background(), "t-value", ordersSchema); !errors.Is(err, ErrIncompatible) {
		t.Fatalf("first Register: err = %v, want ErrIncompatible", err)
	}
	// After the subject's level changes, the same schema must be sent again.
	id, err := r.Register(context.Background(), "t-value", ordersSchema)
	if err != nil {
		t.Fatalf("second Register: %v", err)
	}
	if id != 3 {
		t.Errorf("id = %d, want 3", id)
	}
}

func TestRegistryRetriesServerErrors(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch calls.Add(1) {
		case 1:
			writeJSON(w, http.StatusServiceUnavailable, `{"error_code":50003,"message":"storage not ready"}`)
		case 2:
			writeJSON(w, http.StatusTooManyRequests, `{"error_code":429,"message":"slow down"}`)
		default:
			writeJSON(w, http.StatusOK, `{"id":11}`)
		}
	}))
	defer srv.Close()
	var logged bytes.Buffer
	r := newTestRegistry(t, RegistryConfig{URL: srv.URL, Log: zerolog.New(&logged)})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	id, err := r.Register(ctx, "t-value", ordersSchema)
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	if id != 11 {
		t.Errorf("id = %d, want 11", id)
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("registry got %d requests, want 3 (two failures, then success)", n)
	}
	if n := strings.Count(logged.String(), "retrying"); n != 2 {
		t.Errorf("logged %d retries, want 2:\n%s", n, logged.String())
	}
}

func TestRegistryRetriesConnectionFailure(t *testing.T) {
	// Reserve a port, leave it closed for the first attempts, then serve on it.
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := listener.Addr().String()
	listener.Close()

	r := newTestRegistry(t, RegistryConfig{URL: "http://" + addr})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		writeJSON(w, http.StatusOK, `{"id":5}`)
	})}
	defer srv.Close()
	go func() {
		time.Sleep(200 * time.Millisecond)
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("listen again on %s: %v", addr, err)
			return
		}
		srv.Serve(l)
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	id, err := r.Register(ctx, "t-value", ordersSchema)
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	if id != 5 {
		t.Errorf("id = %d, want 5", id)
	}
}

func TestRegistryDownFailsAtDeadline(t *testing.T) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + listener.Addr().String() + "/apis/ccompat/v7"
	listener.Close()
	r := newTestRegistry(t, RegistryConfig{URL: url})

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = r.Register(ctx, "t-value", ordersSchema)
	elapsed := time.Since(start)

	if err == nil {
		t.Fatal("Register succeeded against a closed port")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want one wrapping context.DeadlineExceeded", err)
	}
	if !strings.Contains(err.Error(), "schema registry "+url+":") {
		t.Errorf("error %q does not name the registry URL %s", err, url)
	}
	if !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("error %q does not contain the last connection error", err)
	}
	if elapsed < 250*time.Millisecond {
		t.Errorf("Register returned after %s, before the deadline of 300ms", elapsed)
	}
	if elapsed > 2*time.Second {
		t.Errorf("Register returned %s after the start, long after the deadline of 300ms", elapsed)
	}
}

func TestRegistryClientErrorIsNotRetried(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		calls.Add(1)
		writeJSON(w, http.StatusUnauthorized, `{"error_code":401,"message":"Unauthorized"}`)
	}))
	defer srv.Close()
	r := newTestRegistry(t, RegistryConfig{URL: srv.URL})

	_, err := r.Register(context.Background(), "t-value", ordersSchema)
	if err == nil {
		t.Fatal("Register succeeded against a 401 response")
	}
	if errors.Is(err, ErrIncompatible) {
		t.Errorf("err = %v, which wraps ErrIncompatible for a 401", err)
	}
	if !strings.Contains(err.Error(), "Unauthorized") {
		t.Errorf("error %q does not contain the registry's message", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("registry got %d requests, want 1", n)
	}
}

func TestRegistrySchemaByID(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch req.URL.Path {
		case "/apis/ccompat/v7/schemas/ids/9":
		case "/apis/ccompat/v7/schemas/ids/11":
			writeJSON(w, http.StatusOK, `{}`)
			return
		default:
			writeJSON(w, http.StatusNotFound, `{"error_code":40403,"message":"Schema not found"}`)
			return
		}
		body, _ := json.Marshal(map[string]string{"schema": ordersSchema})
		writeJSON(w, http.StatusOK, string(body))
	}))
	defer srv.Close()
	r := newTestRegistry(t, RegistryConfig{URL: srv.URL + "/apis/ccompat/v7"})

	got, err := r.SchemaByID(context.Background(), 9)
	if err != nil {
		t.Fatalf("SchemaByID(9): %v", err)
	}
	if got != ordersSchema {
		t.Errorf("SchemaByID(9) = %s, want %s", got, ordersSchema)
	}
	if _, err := r.SchemaByID(context.Background(), 10); err == nil || !strings.Contains(err.Error(), "Schema not found") {
		t.Errorf("SchemaByID(10) error = %v, want the registry's not-found message", err)
	}
	if _, err := r.SchemaByID(context.Background(), 11); err == nil || !strings.Contains(err.Error(), "no schema text") {
		t.Errorf("SchemaByID(11) error = %v, want one about the missing schema text", err)
	}
}

func TestRegistryTLSWithCAFile(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		writeJSON(w, http.StatusOK, `{"id":21}`)
	}))
	// The client that rejects the certificate makes the server log a handshake error.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}

	r := newTestRegistry(t, RegistryConfig{URL: srv.URL, CAFile: caFile})
	id, err := r.Register(context.Background(), "t-value", ordersSchema)
	if err != nil {
		t.Fatalf("Register with the CA file: %v", err)
	}
	if id != 21 {
		t.Errorf("id = %d, want 21", id)
	}

	// Without the CA the certificate is untrusted, which no retry fixes.
	untrusting := newTestRegistry(t, RegistryConfig{URL: srv.URL})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = untrusting.Register(ctx, "t-value", ordersSchema)
	if err == nil {
		t.Fatal("Register succeeded without trusting the server's certificate")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v; a certificate error was retried until the deadline", err)
	}
	if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("error %q does not mention the certificate", err)
	}

	skipping := newTestRegistry(t, RegistryConfig{URL: srv.URL, InsecureSkipVerify: true})
	if _, err := skipping.Register(context.Background(), "t-value", ordersSchema); err != nil {
		t.Errorf("Register with InsecureSkipVerify: %v", err)
	}
}

func TestNewRegistryRejectsInvalidConfig(t *testing.T) {
	missingCA := filepath.Join(t.TempDir(), "missing.pem")
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		cfg  RegistryConfig
		want string
	}{
		{"empty URL", RegistryConfig{}, "schema registry URL is missing"},
		{"no scheme", RegistryConfig{URL: "127.0.0.1:8081"}, "invalid schema registry URL"},
		{"host without scheme", RegistryConfig{URL: "registry:8081"}, "scheme must be http or https"},
		{"other scheme", RegistryConfig{URL: "ftp://127.0.0.1:8081"}, "scheme must be http or https"},
		{"no host", RegistryConfig{URL: "http:///apis/ccompat/v7"}, "host is missing"},
		{"credentials in URL", RegistryConfig{URL: "http://user:secret@127.0.0.1:8081"}, "contains credentials"},
		{"query", RegistryConfig{URL: "http://127.0.0.1:8081/?x=1"}, "query or fragment"},
		{"negative timeout", RegistryConfig{URL: "http://127.0.0.1:8081", Timeout: -time.Second}, "invalid schema registry timeout"},
		{"CA file with http", RegistryConfig{URL: "http://127.0.0.1:8081", CAFile: notPEM}, "uses http"},
		{"missing CA file", RegistryConfig{URL: "https://127.0.0.1:8081", CAFile: missingCA}, "read schema registry CA file"},
		{"CA file without PEM", RegistryConfig{URL: "https://127.0.0.1:8081", CAFile: notPEM}, "contains no PEM certificate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewRegistry(c.cfg)
			if err == nil {
				t.Fatalf("NewRegistry(%+v) succeeded", c.cfg)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q contains the password from the URL", err)
			}
		})
	}
}

func TestAppendWireHeader(t *testing.T) {
	cases := []struct {
		id   int
		want []byte
	}{
		{1, []byte{0, 0, 0, 0, 1}},
		{258, []byte{0, 0, 0, 1, 2}},
		{0x7fffffff, []byte{0, 0x7f, 0xff, 0xff, 0xff}},
	}
	for _, c := range cases {
		if got := AppendWireHeader(nil, c.id); !bytes.Equal(got, c.want) {
			t.Errorf("AppendWireHeader(nil, %d) = %v, want %v", c.id, got, c.want)
		}
	}

	prefix := []byte("key:")
	got := AppendWireHeader(prefix, 0x01020304)
	if want := []byte{'k', 'e', 'y', ':', 0, 1, 2, 3, 4}; !bytes.Equal(got, want) {
		t.Errorf("AppendWireHeader(%q, 0x01020304) = %v, want %v", prefix, got, want)
	}
}
