package sink

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/sr"
)

// RegistryConfig is how to reach a schema registry that serves the
// Confluent Schema Registry REST API.
type RegistryConfig struct {
	// URL is the base URL of the API, http or https. It may carry a path,
	// such as Apicurio Registry's http://127.0.0.1:8081/apis/ccompat/v7.
	URL string
	// Username and Password go out with HTTP basic authentication on every
	// request when either is set.
	Username, Password string
	// CAFile is a PEM file of the CA certificates that verify an https
	// registry, in place of the system's roots.
	CAFile string
	// InsecureSkipVerify turns off the verification of an https registry's
	// certificate and host name.
	InsecureSkipVerify bool
	// Timeout is the maximum duration of one HTTP request; 0 means 10s.
	Timeout time.Duration
	// Log receives a warning for each request that is retried.
	Log zerolog.Logger
}

const defaultRegistryTimeout = 10 * time.Second

// ErrIncompatible is wrapped by the error Register returns when the
// registry rejects a schema as incompatible (HTTP 409) with the earlier
// versions of its subject, under the subject's compatibility level.
var ErrIncompatible = errors.New("incompatible schema")

// Registry registers Avro schemas and looks them up by id. Its methods may
// be called from several goroutines.
type Registry struct {
	url    string
	client *sr.Client
	log    zerolog.Logger

	// Bounds of the exponential backoff between retried requests.
	minBackoff, maxBackoff time.Duration

	mu sync.Mutex
	// ids holds the id of every schema this process registered.
	ids map[registrationKey]int
	// pending holds the registrations under way, so that concurrent calls
	// for one schema send a single request.
	pending map[registrationKey]*registration
}

// registrationKey identifies a schema text under a subject by the text's
// SHA-256. Texts that differ only in formatting get separate keys, and the
// registry returns the same id for both.
type registrationKey struct {
	subject     string
	fingerprint [sha256.Size]byte
}

type registration struct {
	done chan struct{}
	id   int
	err  error
}

// NewRegistry validates cfg and creates a client. It sends no request.
func NewRegistry(cfg RegistryConfig) (*Registry, error) {
	base, err := parseRegistryURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("invalid schema registry timeout %s: it must be positive, or 0 for the default of %s", cfg.Timeout, defaultRegistryTimeout)
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = defaultRegistryTimeout
	}
	tlsConfig, err := registryTLSConfig(cfg, base)
	if err != nil {
		return nil, err
	}

	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = tlsConfig
	opts := []sr.ClientOpt{
		sr.URLs(base.String()),
		sr.HTTPClient(&http.Client{Timeout: timeout, Transport: transport}),
		sr.UserAgent("sluice"),
	}
	if cfg.Username != "" || cfg.Password != "" {
		opts = append(opts, sr.BasicAuth(cfg.Username, cfg.Password))
	}
	client, err := sr.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("create schema registry client for %s: %w", base, err)
	}
	return &Registry{
		url:        base.String(),
		client:     client,
		log:        cfg.Log,
		minBackoff: 100 * time.Millisecond,
		maxBackoff: 5 * time.Second,
		ids:        make(map[registrationKey]int),
		pending:    make(map[registrationKey]*registration),
	}, nil
}

// parseRegistryURL checks that raw is an absolute http or https URL without
// credentials, query or fragment, and drops a trailing slash from its path.
func parseRegistryURL(raw string) (*url.URL, error) {
	const example = "http://127.0.0.1:8081/apis/ccompat/v7"
	if strings.TrimSpace(raw) == "" {
		return nil, fmt.Errorf("schema registry URL is missing; set the registry's base URL, such as %s", example)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("invalid schema registry URL %q: %w; expected a URL such as %s", raw, err, example)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("invalid schema registry URL %q: the scheme must be http or https, as in %s", raw, example)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("invalid schema registry URL %q: the host is missing", raw)
	}
	if u.User != nil {
		// Error messages and logs contain the URL, so credentials in it would leak.
		return nil, fmt.Errorf("invalid schema registry URL %s://%s%s: it contains credentials; give them as the username and password settings instead", u.Scheme, u.Host, u.Path)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("invalid schema registry URL %q: a query or fragment is not allowed in a base URL", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// registryTLSConfig returns the TLS settings for an https registry, or nil
// for the transport's defaults.
func registryTLSConfig(cfg RegistryConfig, base *url.URL) (*tls.Config, error) {
	if cfg.CAFile == "" && !cfg.InsecureSkipVerify {
		return nil, nil
	}
	if base.Scheme != "https" {
		return nil, fmt.Errorf("schema registry URL %s uses http, so a CA file or skipping certificate verification has no effect; use an https URL or drop those settings", base)
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.InsecureSkipVerify}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read schema registry CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("schema registry CA file %s contains no PEM certificate", cfg.CAFile)
		}
		tlsConfig.RootCAs = pool
	}
	return tlsConfig, nil
}

// Register registers an Avro schema under subject and returns its id. A
// schema text is sent once per subject and process; later calls return the
// cached id. Connection failures and HTTP 5xx and 429 responses are retried
// with exponential backoff until ctx ends. When the registry rejects the
// schema as incompatible, the error wraps ErrIncompatible and names the
// subject's compatibility level.
func (r *Registry) Register(ctx context.Context, subject string, schema string) (id int, err error) {
	key := registrationKey{subject: subject, fingerprint: sha256.Sum256([]byte(schema))}

	r.mu.Lock()
	if id, ok := r.ids[key]; ok {
		r.mu.Unlock()
		return id, nil
	}
	if call, ok := r.pending[key]; ok {
		r.mu.Unlock()
		select {
		case <-call.done:
			return call.id, call.err
		case <-ctx.Done():
			return 0, fmt.Errorf("schema registry %s: wait for the registration under subject %q: %w", r.url, subject, ctx.Err())
		}
	}
	call := &registration{done: make(chan struct{})}
	r.pending[key] = call
	r.mu.Unlock()

	call.id, call.err = r.register(ctx, subject, schema)

	r.mu.Lock()
	delete(r.pending, key)
	if call.err == nil {
		r.ids[key] = call.id
	}
	r.mu.Unlock()
	close(call.done)
	return call.id, call.err
}

func (r *Registry) register(ctx context.Context, subject, schema string) (int, error) {
	var id int
	operation := fmt.Sprintf("register a schema under subject %q", subject)
	err := r.retry(ctx, operation, func(ctx context.Context) error {
		var err error
		// The id -1 lets the registry pick the id, or return the existing
		// one for a schema the subject already has.
		id, err = r.client.RegisterSchema(ctx, subject, sr.Schema{Schema: schema, Type: sr.TypeAvro}, -1, -1)
		return err
	})
	var response *sr.ResponseError
	if errors.As(err, &response) && response.StatusCode == http.StatusConflict {
		return 0, r.incompatibleError(ctx, subject, response)
	}
	if err != nil {
		return 0, err
	}
	return id, nil
}

// incompatibleError builds the error for a 409 response, with the
// compatibility level that the registry checked the schema against.
func (r *Registry) incompatibleError(ctx context.Context, subject string, response *sr.ResponseError) error {
	return fmt.Errorf("%w: schema registry %s rejected the schema for subject %q under compatibility level %s: %w",
		ErrIncompatible, r.url, subject, r.compatibilityLevel(ctx, subject), response)
}

// compatibilityLevel returns the subject's compatibility level, else the
// registry's global one, as text for an error message. It tries each
// lookup once, because it only adds detail to another error.
func (r *Registry) compatibilityLevel(ctx context.Context, subject string) string {
	// Apicurio Registry 3 returns NONE for a subject without a level of its
	// own, even when the global level differs. With defaultToGlobal, it and
	// Confluent's registry return the level that applies.
	level, err := r.configLevel(sr.WithParams(ctx, sr.DefaultToGlobal), "/config/"+url.PathEscape(subject))
	if err == nil {
		return level
	}
	var response *sr.ResponseError
	if !errors.As(err, &response) || response.StatusCode != http.StatusNotFound {
		return fmt.Sprintf("unknown (its lookup failed: %v)", err)
	}
	// Confluent's registry returns 404 for a subject without a level of its own.
	level, err = r.configLevel(ctx, "/config")
	if err != nil {
		return fmt.Sprintf("unknown (its lookup failed: %v)", err)
	}
	return level + " (the registry's global level)"
}

// configLevel reads the compatibility level from a config resource. The
// level stays text, so that a level unknown to this client still shows.
func (r *Registry) configLevel(ctx context.Context, path string) (string, error) {
	var config struct {
		Level string `json:"compatibilityLevel"`
	}
	if err := r.client.Do(ctx, http.MethodGet, path, nil, &config); err != nil {
		return "", err
	}
	if config.Level == "" {
		return "", fmt.Errorf("GET %s returned no compatibilityLevel", path)
	}
	return config.Level, nil
}

// Check reads the registry's global compatibility level, retrying like
// Register, to learn at start that the URL names a reachable
// Confluent-compatible registry. A wrong path fails at once with the
// registry's 404.
func (r *Registry) Check(ctx context.Context) error {
	err := r.retry(ctx, "read the global compatibility level (GET /config)", func(ctx context.Context) error {
		_, err := r.configLevel(ctx, "/config")
		return err
	})
	if err != nil {
		return fmt.Errorf("%w; check SLUICE_SCHEMA_REGISTRY_URL: it names the API root, such as "+
			"http://127.0.0.1:8081/apis/ccompat/v7 for Apicurio Registry", err)
	}
	return nil
}

// SchemaByID returns the text of the schema with the given id, retrying
// like Register.
func (r *Registry) SchemaByID(ctx context.Context, id int) (string, error) {
	var schema sr.Schema
	err := r.retry(ctx, fmt.Sprintf("look up schema id %d", id), func(ctx context.Context) error {
		var err error
		schema, err = r.client.SchemaByID(ctx, id)
		return err
	})
	if err != nil {
		return "", err
	}
	if schema.Schema == "" {
		return "", fmt.Errorf("schema registry %s: look up schema id %d: the response contains no schema text", r.url, id)
	}
	return schema.Schema, nil
}

// retry calls request until it succeeds, fails with an error that a retry
// cannot fix, or ctx ends. The waits between attempts grow from minBackoff
// to maxBackoff. Every error it returns names the registry and operation.
func (r *Registry) retry(ctx context.Context, operation string, request func(context.Context) error) error {
	backoff := r.minBackoff
	var lastErr error
	attempts := 0
	for ctx.Err() == nil {
		attempts++
		err := request(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			// The request failed because ctx ended, so its error adds
			// nothing to ctx.Err().
			break
		}
		if !retryable(err) {
			return fmt.Errorf("schema registry %s: %s: %w", r.url, operation, err)
		}
		lastErr = err
		r.log.Warn().Err(err).Str("registry", r.url).Str("operation", operation).
			Int("attempt", attempts).Dur("backoff", backoff).Msg("schema registry request failed; retrying")

		timer := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			timer.Stop()
		case <-timer.C:
		}
		backoff = min(2*backoff, r.maxBackoff)
	}
	if lastErr == nil {
		return fmt.Errorf("schema registry %s: %s: %w", r.url, operation, ctx.Err())
	}
	return fmt.Errorf("schema registry %s: %s: gave up after %d attempts because %w; last error: %w",
		r.url, operation, attempts, ctx.Err(), lastErr)
}

// retryable reports whether err may go away on its own: a connection
// failure, a timeout, or an HTTP 5xx or 429 response.
func retryable(err error) bool {
	var response *sr.ResponseError
	if errors.As(err, &response) {
		return response.StatusCode >= 500 || response.StatusCode == http.StatusTooManyRequests
	}
	// An untrusted certificate or a plain-HTTP server behind an https URL
	// stays that way, so such errors fail at once.
	var verification *tls.CertificateVerificationError
	var recordHeader tls.RecordHeaderError
	if errors.As(err, &verification) || errors.As(err, &recordHeader) {
		return false
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF)
}

// AppendWireHeader appends the Confluent wire-format header to b and
// returns the result: the magic byte 0, then id as a 4-byte big-endian
// integer. The Avro-encoded data follows the header. Registry ids are
// positive 32-bit integers.
func AppendWireHeader(b []byte, id int) []byte {
	b = append(b, 0)
	return binary.BigEndian.AppendUint32(b, uint32(id))
}
