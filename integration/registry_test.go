//go:build integration

package integration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/sink"
)

// Apicurio Registry as deploy/local/apicurio.sh starts it, with the same
// variable names as the scripts.
var (
	apicurioAddr = net.JoinHostPort(envOr("APICURIO_HOST", "127.0.0.1"), envOr("APICURIO_PORT", "8081"))
	apicurioURL  = "http://" + apicurioAddr + "/apis/ccompat/v7"
)

// requireApicurio fails the test when nothing listens on Apicurio's port.
// TestMain checks only MariaDB and Kafka, which every other test needs.
func requireApicurio(t *testing.T) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", apicurioAddr, 3*time.Second)
	if err != nil {
		t.Fatalf("the schema registry tests need Apicurio Registry: %s is not reachable (%v); run deploy/local/up.sh", apicurioAddr, err)
	}
	conn.Close()
}

// ccompatRequest sends one request to Apicurio's Confluent-compatible API
// and fails the test unless the status is 200.
func ccompatRequest(t *testing.T, method, path, body string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, apicurioURL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: status %d: %s", method, path, resp.StatusCode, text)
	}
}

// setCompatibility sets the subject's compatibility level through the
// registry's config resource.
func setCompatibility(t *testing.T, subject, level string) {
	t.Helper()
	ccompatRequest(t, http.MethodPut, "/config/"+url.PathEscape(subject), fmt.Sprintf(`{"compatibility":%q}`, level))
}

func TestRegistryEvolvesSchemaOnApicurio(t *testing.T) {
	requireApicurio(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// A subject as TopicNameStrategy builds it for a sluice topic.
	subject := fmt.Sprintf("it.registry.%d.shop.orders-value", rand.IntN(1_000_000))
	t.Cleanup(func() {
		// A subject that a failed delete leaves behind is gone at the next
		// stop of the registry, which keeps schemas in memory only.
		req, err := http.NewRequest(http.MethodDelete, apicurioURL+"/subjects/"+url.PathEscape(subject), nil)
		if err == nil {
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}
	})

	const v1 = `{"type":"record","name":"Orders","namespace":"shop","fields":[` +
		`{"name":"id","type":"long"},{"name":"status","type":"string"}]}`
	// v2 adds a nullable field with a default: BACKWARD and FULL compatible.
	const v2 = `{"type":"record","name":"Orders","namespace":"shop","fields":[` +
		`{"name":"id","type":"long"},{"name":"status","type":"string"},` +
		`{"name":"note","type":["null","string"],"default":null}]}`
	// v3 adds a field without a default, which a reader of v3 cannot fill
	// from data written with v2: not BACKWARD, so not FULL compatible.
	const v3 = `{"type":"record","name":"Orders","namespace":"shop","fields":[` +
		`{"name":"id","type":"long"},{"name":"status","type":"string"},` +
		`{"name":"note","type":["null","string"],"default":null},{"name":"quantity","type":"int"}]}`

	registry, err := sink.NewRegistry(sink.RegistryConfig{URL: apicurioURL})
	if err != nil {
		t.Fatalf("NewRegistry(%s): %v", apicurioURL, err)
	}

	id1, err := registry.Register(ctx, subject, v1)
	if err != nil {
		t.Fatalf("register v1: %v", err)
	}
	cached, err := registry.Register(ctx, subject, v1)
	if err != nil {
		t.Fatalf("register v1 again: %v", err)
	}
	if cached != id1 {
		t.Errorf("v1 registered again got id %d, want %d", cached, id1)
	}
	// A second client has no cache, so the registry itself returns the id.
	other, err := sink.NewRegistry(sink.RegistryConfig{URL: apicurioURL})
	if err != nil {
		t.Fatal(err)
	}
	again, err := other.Register(ctx, subject, v1)
	if err != nil {
		t.Fatalf("register v1 with a second client: %v", err)
	}
	if again != id1 {
		t.Errorf("registry returned id %d for v1 registered again, want %d", again, id1)
	}

	setCompatibility(t, subject, "BACKWARD")
	id2, err := registry.Register(ctx, subject, v2)
	if err != nil {
		t.Fatalf("register v2 under BACKWARD: %v", err)
	}
	if id2 == id1 {
		t.Errorf("v2 got id %d, the id of v1; want a new id", id2)
	}

	setCompatibility(t, subject, "FULL")
	_, err = registry.Register(ctx, subject, v3)
	if !errors.Is(err, sink.ErrIncompatible) {
		t.Fatalf("register v3 under FULL: err = %v, want one wrapping ErrIncompatible", err)
	}
	t.Logf("registry rejected v3: %v", err)
	if !strings.Contains(err.Error(), "compatibility level FULL") {
		t.Errorf("error %q does not name the level FULL", err)
	}
	if !strings.Contains(err.Error(), subject) {
		t.Errorf("error %q does not name the subject %s", err, subject)
	}

	for id, want := range map[int]string{id1: v1, id2: v2} {
		got, err := registry.SchemaByID(ctx, id)
		if err != nil {
			t.Fatalf("SchemaByID(%d): %v", id, err)
		}
		if got != want {
			t.Errorf("SchemaByID(%d) = %s, want %s", id, got, want)
		}
	}
}

func TestRegistryUnknownIDOnApicurio(t *testing.T) {
	requireApicurio(t)
	registry, err := sink.NewRegistry(sink.RegistryConfig{URL: apicurioURL})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	_, err = registry.SchemaByID(ctx, 2_000_000_000)
	if err == nil {
		t.Fatal("SchemaByID of an unknown id succeeded")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v; a 404 was retried until the deadline", err)
	}
	if !strings.Contains(err.Error(), apicurioURL) {
		t.Errorf("error %q does not name the registry URL", err)
	}
}
