package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
)

// metrics are the worker's Prometheus metrics. They are kept whether or not
// SLUICE_METRICS_ADDR serves them, so the worker updates them without
// checks.
type metrics struct {
	registry *prometheus.Registry

	records       *prometheus.CounterVec
	skipped       *prometheus.CounterVec
	commits       prometheus.Counter
	commitSeconds prometheus.Histogram
	reconnects    prometheus.Counter
	lastCommit    prometheus.Gauge
	sourceTime    prometheus.Gauge
	commitLag     prometheus.Gauge

	// streaming is true from the end of the start until the worker stops,
	// except while the binlog connection is being restored.
	streaming atomic.Bool
	// uncommittedSince is the Unix time in nanoseconds at which the oldest
	// source transaction read but not yet committed to Kafka ended, or 0
	// when every transaction read is committed.
	uncommittedSince atomic.Int64
}

// commitOverdue is how long a source transaction may wait for its Kafka
// commit before /healthz reports the worker as stalled. Commits follow
// SLUICE_COMMIT_INTERVAL (200ms by default) while Kafka is reachable.
const commitOverdue = 15 * time.Second

func newMetrics(stream string) *metrics {
	registry := prometheus.NewRegistry()
	registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	factory := promauto.With(registry)
	labels := prometheus.Labels{"stream": stream}
	counter := func(name, help string) prometheus.Counter {
		return factory.NewCounter(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels})
	}
	gauge := func(name, help string) prometheus.Gauge {
		return factory.NewGauge(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: labels})
	}
	gaugeFunc := func(name, help string, read func() float64) {
		factory.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: labels}, read)
	}
	byTopic := func(name, help string) *prometheus.CounterVec {
		return factory.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels}, []string{"topic"})
	}

	m := &metrics{registry: registry}
	gaugeFunc("sluice_uncommitted_seconds",
		"Seconds since the oldest source transaction that is read but not committed to Kafka ended; 0 when none waits.",
		func() float64 { return m.uncommittedAge().Seconds() })
	factory.NewGauge(prometheus.GaugeOpts{
		Name:        "sluice_build_info",
		Help:        "Always 1; the version label is the running sluice version.",
		ConstLabels: prometheus.Labels{"stream": stream, "version": version},
	}).Set(1)
	m.records = byTopic("sluice_records_committed_total",
		"Records in committed Kafka transactions, by topic; the positions topic is left out.")
	m.skipped = byTopic("sluice_records_skipped_total",
		"Records left out for their size with SLUICE_OVERSIZE_RECORDS=skip, by topic.")
	m.commits = counter("sluice_kafka_commits_total",
		"Kafka transactions committed, each with the position it ends at.")
	m.commitSeconds = factory.NewHistogram(prometheus.HistogramOpts{
		Name:        "sluice_kafka_commit_seconds",
		Help:        "Time to flush and commit a Kafka transaction and save its position to the tracker.",
		ConstLabels: labels,
		Buckets:     prometheus.ExponentialBuckets(0.001, 2, 14),
	})
	m.reconnects = counter("sluice_binlog_reconnects_total",
		"Times the binlog connection was lost and the stream resumed from the committed position.")
	m.lastCommit = gauge("sluice_last_commit_timestamp_seconds",
		"Unix time of the last Kafka commit.")
	m.sourceTime = gauge("sluice_committed_source_timestamp_seconds",
		"Unix time at which the source server logged the end of the newest committed source transaction.")
	m.commitLag = gauge("sluice_commit_lag_seconds",
		"At the last Kafka commit: seconds from when the source logged its newest transaction to the commit.")
	gaugeFunc("sluice_streaming",
		"1 while the worker streams, 0 while it starts, reconnects or stops.",
		func() float64 {
			if m.streaming.Load() {
				return 1
			}
			return 0
		})
	return m
}

// setStreaming records whether the worker streams.
func (m *metrics) setStreaming(on bool) {
	m.streaming.Store(on)
}

// setUncommittedSince records when the oldest uncommitted source
// transaction ended, or with the zero time that none is uncommitted.
func (m *metrics) setUncommittedSince(t time.Time) {
	if t.IsZero() {
		m.uncommittedSince.Store(0)
		return
	}
	m.uncommittedSince.Store(t.UnixNano())
}

// uncommittedAge returns how long the oldest uncommitted source
// transaction has waited for its Kafka commit, or 0.
func (m *metrics) uncommittedAge() time.Duration {
	since := m.uncommittedSince.Load()
	if since == 0 {
		return 0
	}
	return time.Since(time.Unix(0, since))
}

// committed records a Kafka commit that started at began, with the records
// counted in topicRecords. sourceTime is when the source logged the end of
// the newest source transaction in it, or zero when that is not known.
func (m *metrics) committed(topicRecords map[string]int, positionsTopic string, began, sourceTime time.Time) {
	for topic, n := range topicRecords {
		if topic != positionsTopic {
			m.records.WithLabelValues(topic).Add(float64(n))
		}
	}
	now := time.Now()
	m.commits.Inc()
	m.commitSeconds.Observe(now.Sub(began).Seconds())
	m.lastCommit.Set(float64(now.UnixNano()) / 1e9)
	if sourceTime.Unix() > 0 {
		m.sourceTime.Set(float64(sourceTime.Unix()))
		m.commitLag.Set(max(0, now.Sub(sourceTime).Seconds()))
	}
}

// handler serves /metrics and /healthz. /healthz returns 200 while the
// worker streams and commits, and 503 otherwise, for readiness probes.
func (m *metrics) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		switch age := m.uncommittedAge(); {
		case !m.streaming.Load():
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not streaming")
		case age > commitOverdue:
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "not committing: changes read %s ago are not committed to Kafka yet\n", age.Round(time.Second))
		default:
			fmt.Fprintln(w, "streaming")
		}
	})
	return mux
}

// metricsServer serves the metrics over HTTP.
type metricsServer struct {
	server *http.Server
	addr   net.Addr
	done   chan struct{} // closed when Serve has returned
}

// serveMetrics listens on addr and serves the metrics until stop is
// called. The listener is opened before it returns, so a taken or invalid
// address fails the start.
func serveMetrics(addr string, m *metrics, log zerolog.Logger) (*metricsServer, error) {
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("SLUICE_METRICS_ADDR %q: %w; give a free host:port such as 127.0.0.1:9400 or :9400, or leave it empty to serve no metrics", addr, err)
	}
	s := &metricsServer{
		server: &http.Server{Handler: m.handler(), ReadHeaderTimeout: 10 * time.Second},
		addr:   listener.Addr(),
		done:   make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.server.Serve(listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Str("addr", addr).Msg("the metrics server failed")
		}
	}()
	return s, nil
}

// stop closes the listener, gives requests in progress a second to finish,
// and returns once the server has stopped.
func (s *metricsServer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.server.Shutdown(ctx); err != nil {
		s.server.Close()
	}
	<-s.done
}
