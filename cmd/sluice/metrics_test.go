package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
)

// TestMetricsCommitted checks what one commit adds: its records by topic
// without the positions topic, one commit, and the times.
func TestMetricsCommitted(t *testing.T) {
	m := newMetrics("orders")
	logged := time.Now().Add(-90 * time.Second).Truncate(time.Second)
	m.committed(map[string]int{"shop.app.orders": 3, "shop.app.lines": 7, "__sluice_positions": 1},
		"__sluice_positions", time.Now(), logged)
	m.committed(map[string]int{"shop.app.orders": 2, "__sluice_positions": 1}, "__sluice_positions", time.Now(), time.Time{})

	for topic, want := range map[string]float64{"shop.app.orders": 5, "shop.app.lines": 7, "__sluice_positions": 0} {
		if got := testutil.ToFloat64(m.records.WithLabelValues(topic)); got != want {
			t.Errorf("records committed to %s = %v, want %v", topic, got, want)
		}
	}
	if got := testutil.ToFloat64(m.commits); got != 2 {
		t.Errorf("commits = %v, want 2", got)
	}
	// A commit whose source time is not known keeps the last known one.
	if got := testutil.ToFloat64(m.sourceTime); got != float64(logged.Unix()) {
		t.Errorf("committed source time = %v, want %v", got, logged.Unix())
	}
	if got := testutil.ToFloat64(m.commitLag); got < 90 || got > 120 {
		t.Errorf("commit lag = %v s, want about 90", got)
	}
}

// TestMetricsHandler checks the two paths: /healthz follows the streaming
// state, and /metrics shows the sluice metrics with the stream label.
func TestMetricsHandler(t *testing.T) {
	m := newMetrics("orders")
	server := httptest.NewServer(m.handler())
	defer server.Close()

	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(server.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(body)
	}

	if code, body := get("/healthz"); code != http.StatusServiceUnavailable || body != "not streaming\n" {
		t.Errorf("/healthz before streaming = %d %q, want 503 \"not streaming\\n\"", code, body)
	}
	m.setStreaming(true)
	if code, body := get("/healthz"); code != http.StatusOK || body != "streaming\n" {
		t.Errorf("/healthz while streaming = %d %q, want 200 \"streaming\\n\"", code, body)
	}

	// A transaction that waits for its commit longer than commitOverdue
	// makes the worker not ready.
	m.setUncommittedSince(time.Now().Add(-commitOverdue - 5*time.Second))
	if code, body := get("/healthz"); code != http.StatusServiceUnavailable || !strings.HasPrefix(body, "not committing: changes read 20s ago") {
		t.Errorf("/healthz with an overdue commit = %d %q, want 503 \"not committing: changes read 20s ago ...\"", code, body)
	}
	m.setUncommittedSince(time.Now().Add(-time.Second))
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz with a commit due soon = %d, want 200", code)
	}
	m.setUncommittedSince(time.Time{})

	m.committed(map[string]int{"shop.app.orders": 4}, "__sluice_positions", time.Now(), time.Time{})
	m.skipped.WithLabelValues("shop.app.blobs").Inc()
	code, body := get("/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics = %d", code)
	}
	for _, line := range []string{
		`sluice_records_committed_total{stream="orders",topic="shop.app.orders"} 4`,
		`sluice_records_skipped_total{stream="orders",topic="shop.app.blobs"} 1`,
		`sluice_kafka_commits_total{stream="orders"} 1`,
		`sluice_streaming{stream="orders"} 1`,
		`sluice_build_info{stream="orders",version="` + version + `"} 1`,
		`sluice_kafka_commit_seconds_count{stream="orders"} 1`,
		`sluice_binlog_reconnects_total{stream="orders"} 0`,
		`sluice_uncommitted_seconds{stream="orders"} 0`,
	} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("/metrics lacks the line %s", line)
		}
	}
	if !strings.Contains(body, "\ngo_goroutines ") || !strings.Contains(body, "\nprocess_resident_memory_bytes ") {
		t.Errorf("/metrics lacks the Go and process metrics")
	}
	if code, _ := get("/other"); code != http.StatusNotFound {
		t.Errorf("/other = %d, want 404", code)
	}
}

// TestServeMetricsAddressTaken checks that an address in use fails at once
// with the variable, the address and the fix.
func TestServeMetricsAddressTaken(t *testing.T) {
	occupied, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer occupied.Close()
	_, err = serveMetrics(occupied.Addr().String(), newMetrics("orders"), zerolog.Nop())
	if err == nil {
		t.Fatalf("serveMetrics on the occupied address %s succeeded", occupied.Addr())
	}
	for _, want := range []string{"SLUICE_METRICS_ADDR", occupied.Addr().String(), "address already in use", "leave it empty"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

// TestServeMetricsStop serves on a free port, reads /healthz, and checks
// that nothing listens once stop returns.
func TestServeMetricsStop(t *testing.T) {
	server, err := serveMetrics("127.0.0.1:0", newMetrics("orders"), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + server.addr.String() + "/healthz"
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("GET %s = %d before streaming, want 503", url, resp.StatusCode)
	}

	server.stop()
	if resp, err := http.Get(url); err == nil {
		resp.Body.Close()
		t.Errorf("GET %s after stop = %d, want a refused connection", url, resp.StatusCode)
	}
}
