// Command bench measures sluice's throughput against two ceilings over one
// binlog that it writes itself: how fast go-mysql alone decodes that binlog,
// and how fast a transactional Java producer writes records of the same size
// to Kafka. It loads a table in the local MariaDB, runs bin/sluice as a
// separate process from the position before the load, and prints one table.
//
// Run it from the repository root with `make bench`, which starts the local
// servers and builds bin/sluice first.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// settings are the command-line flags.
type settings struct {
	mysqlAddr     string
	rootUser      string
	rootPassword  string
	replUser      string
	replPassword  string
	kafkaAddr     string
	sluiceBin     string
	singleRows    int
	batches       int
	batchRows     int
	connections   int
	relaxFlush    bool
	timeout       time.Duration
	sluiceTimeout time.Duration
	// registryURL is the schema registry of the Avro run; "" skips it.
	registryURL string
}

func parseFlags() settings {
	var s settings
	flag.StringVar(&s.mysqlAddr, "mysql", net.JoinHostPort(envOr("MARIADB_HOST", "127.0.0.1"), envOr("MARIADB_PORT", "3307")),
		"MariaDB address, host:port")
	flag.StringVar(&s.rootUser, "mysql-root-user", "root", "MariaDB user that creates the bench database and loads it")
	flag.StringVar(&s.rootPassword, "mysql-root-password", "", "password of -mysql-root-user")
	flag.StringVar(&s.replUser, "mysql-user", "sluice", "MariaDB user with REPLICATION SLAVE, for go-mysql and sluice")
	flag.StringVar(&s.replPassword, "mysql-password", "sluice", "password of -mysql-user")
	flag.StringVar(&s.kafkaAddr, "kafka", net.JoinHostPort(envOr("KAFKA_HOST", "127.0.0.1"), envOr("KAFKA_PORT", "9092")),
		"Kafka bootstrap broker, host:port")
	flag.StringVar(&s.sluiceBin, "sluice", "bin/sluice", "sluice binary to run (make build writes bin/sluice)")
	flag.IntVar(&s.singleRows, "single-rows", 200_000, "number of single-row transactions in the first phase")
	flag.IntVar(&s.batches, "batches", 200, "number of multi-row transactions in the second phase")
	flag.IntVar(&s.batchRows, "batch-rows", 1000, "rows in each transaction of the second phase")
	flag.IntVar(&s.connections, "connections", 8, "MariaDB connections that insert in parallel during the load")
	flag.BoolVar(&s.relaxFlush, "relax-flush", true,
		"set innodb_flush_log_at_trx_commit=2 and sync_binlog=0 during the load, and restore the old values afterwards")
	flag.DurationVar(&s.timeout, "timeout", 40*time.Minute, "limit on the whole run")
	flag.StringVar(&s.registryURL, "registry",
		"http://"+net.JoinHostPort(envOr("APICURIO_HOST", "127.0.0.1"), envOr("APICURIO_PORT", "8081"))+"/apis/ccompat/v7",
		"Confluent-compatible schema registry for the run with SLUICE_FORMAT=avro; empty skips that run")
	flag.DurationVar(&s.sluiceTimeout, "sluice-timeout", 15*time.Minute, "limit on each of the go-mysql and sluice measurements reading the whole backlog")
	flag.Parse()
	return s
}

func (s *settings) validate() error {
	var problems []string
	if s.singleRows < 1 {
		problems = append(problems, fmt.Sprintf("-single-rows is %d: use at least 1", s.singleRows))
	}
	if s.batches < 1 || s.batchRows < 1 {
		problems = append(problems, fmt.Sprintf("-batches %d and -batch-rows %d: use at least 1 for each", s.batches, s.batchRows))
	}
	if s.connections < 1 {
		problems = append(problems, fmt.Sprintf("-connections is %d: use at least 1", s.connections))
	}
	if s.timeout <= 0 || s.sluiceTimeout <= 0 {
		problems = append(problems, "-timeout and -sluice-timeout must be positive durations")
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func main() {
	s := parseFlags()
	if err := s.validate(); err != nil {
		fmt.Fprintf(os.Stderr, "bench: invalid flags: %v\n", err)
		os.Exit(2)
	}
	if _, err := os.Stat("go.mod"); err != nil {
		fmt.Fprintln(os.Stderr, "bench: go.mod not found in the current directory: run it from the repository root with `make bench`")
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()

	if err := run(ctx, &s); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

// run does the whole benchmark. Cleanup (the database, the topics, the
// sluice process, the temporary directory) runs on every return, with its
// own time limits, so that an interrupted run leaves nothing behind.
func run(ctx context.Context, s *settings) error {
	began := time.Now()
	runID := fmt.Sprintf("%d-%04d", time.Now().Unix(), rand.IntN(10000))
	names := benchNames{
		prefix:         "bench-" + runID,
		stream:         "bench-" + runID,
		positionsTopic: "bench-" + runID + ".positions",
		perfTopic:      "bench-" + runID + ".produce-ceiling",
	}
	names.dataTopic = names.prefix + "." + benchDatabase + "." + benchTable
	avroNames := benchNames{
		prefix:         names.prefix + "-avro",
		stream:         names.stream + "-avro",
		positionsTopic: names.positionsTopic + "-avro",
	}
	avroNames.dataTopic = avroNames.prefix + "." + benchDatabase + "." + benchTable

	tmp, err := os.MkdirTemp("", "sluice-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	defer cleanup(s, names)
	defer cleanup(s, avroNames) // drops the database once more, which is harmless

	var result results
	result.machine = describeMachine()
	progress("loading %d single-row and %d %d-row transactions into %s.%s", s.singleRows, s.batches, s.batchRows, benchDatabase, benchTable)
	if result.load, err = load(ctx, s); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	progress("load done in %s; binlog %s -> %s -> %s", result.load.total().Round(time.Millisecond),
		result.load.start, result.load.middle, result.load.end)

	result.busyBefore.parse = sampleBusy(ctx, time.Second)
	progress("go-mysql parse ceiling: decoding the binlog from %s", result.load.start)
	if result.parse, err = measureParse(ctx, s, &result.load); err != nil {
		return fmt.Errorf("go-mysql parse ceiling: %w", err)
	}

	result.busyBefore.sluice = sampleBusy(ctx, time.Second)
	progress("sluice end to end: stream %s, topic %s", names.stream, names.dataTopic)
	if result.sluice, err = measureSluice(ctx, s, &result.load, names, tmp, nil); err != nil {
		return fmt.Errorf("sluice end to end: %w", err)
	}
	progress("verifying the records on %s with a read_committed consumer", names.dataTopic)
	if result.topic, err = countTopic(ctx, s.kafkaAddr, names.dataTopic, result.load.rows()); err != nil {
		return fmt.Errorf("verify %s: %w", names.dataTopic, err)
	}
	if result.topic.records != result.load.rows() || result.topic.uniqueKeys != result.load.rows() {
		return fmt.Errorf("topic %s contains %d committed records with %d distinct keys, want %d of each (one per inserted row)",
			names.dataTopic, result.topic.records, result.topic.uniqueKeys, result.load.rows())
	}

	if s.registryURL != "" {
		result.busyBefore.avro = sampleBusy(ctx, time.Second)
		progress("sluice end to end with Avro: stream %s, topic %s, registry %s", avroNames.stream, avroNames.dataTopic, s.registryURL)
		avroEnv := []string{"SLUICE_FORMAT=avro", "SLUICE_SCHEMA_REGISTRY_URL=" + s.registryURL}
		if result.avro, err = measureSluice(ctx, s, &result.load, avroNames, tmp, avroEnv); err != nil {
			return fmt.Errorf("sluice end to end with Avro: %w", err)
		}
		if result.avroTopic, err = countTopic(ctx, s.kafkaAddr, avroNames.dataTopic, result.load.rows()); err != nil {
			return fmt.Errorf("verify %s: %w", avroNames.dataTopic, err)
		}
		if result.avroTopic.records != result.load.rows() || result.avroTopic.uniqueKeys != result.load.rows() {
			return fmt.Errorf("topic %s contains %d committed records with %d distinct keys, want %d of each (one per inserted row)",
				avroNames.dataTopic, result.avroTopic.records, result.avroTopic.uniqueKeys, result.load.rows())
		}
	}

	recordSize := int(result.topic.averageValueBytes() + 0.5)
	result.busyBefore.produce = sampleBusy(ctx, time.Second)
	progress("Kafka produce ceiling: ProducerPerformance, %d records of %d bytes", result.load.rows(), recordSize)
	if result.produce, err = measureProduce(ctx, s, names, result.load.rows(), recordSize); err != nil {
		return fmt.Errorf("Kafka produce ceiling: %w", err)
	}

	result.versions = collectVersions(ctx, s, result.load.version, result.produce.classpath)
	result.started = began
	result.elapsed = time.Since(began)
	result.command = commandLine()
	printReport(os.Stdout, s, &result)
	return nil
}

// benchNames are the Kafka names of one run, unique per run so that runs
// never read each other's records.
type benchNames struct {
	prefix         string
	stream         string
	positionsTopic string
	dataTopic      string
	perfTopic      string
}

// cleanup drops the bench database and deletes the run's topics. It runs
// after the context of the run may have ended, so it has its own deadline.
func cleanup(s *settings, names benchNames) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := dropDatabase(ctx, s); err != nil {
		fmt.Fprintf(os.Stderr, "bench: cleanup: drop database %s: %v\n", benchDatabase, err)
	}
	var topics []string
	for _, topic := range []string{names.dataTopic, names.positionsTopic, names.perfTopic} {
		if topic != "" {
			topics = append(topics, topic)
		}
	}
	if err := deleteTopics(ctx, s.kafkaAddr, topics); err != nil {
		fmt.Fprintf(os.Stderr, "bench: cleanup: delete topics %v: %v\n", topics, err)
	}
}

// progress writes one status line to stderr, so that stdout holds only the
// report.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func commandLine() string {
	args := append([]string{"go run ./integration/bench"}, os.Args[1:]...)
	return strings.Join(args, " ")
}
