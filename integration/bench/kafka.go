package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// toolTimeout bounds each run of a Kafka command-line tool.
const toolTimeout = 10 * time.Minute

// topicCount is the tally of the records that a read_committed consumer
// read from the data topic.
type topicCount struct {
	records    int
	uniqueKeys int
	valueBytes int64
	keyBytes   int64
}

func (t topicCount) averageValueBytes() float64 {
	if t.records == 0 {
		return 0
	}
	return float64(t.valueBytes) / float64(t.records)
}

func (t topicCount) averageKeyBytes() float64 {
	if t.records == 0 {
		return 0
	}
	return float64(t.keyBytes) / float64(t.records)
}

// countTopic reads partition 0 of topic from the start with read_committed
// isolation up to its last stable offset and counts the records. want is
// only used to size the key set.
func countTopic(ctx context.Context, broker, topic string, want int) (topicCount, error) {
	var count topicCount
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()

	admin, err := kgo.NewClient(kgo.SeedBrokers(broker))
	if err != nil {
		return count, err
	}
	defer admin.Close()
	ends, err := kadm.NewClient(admin).ListCommittedOffsets(ctx, topic)
	if err != nil {
		return count, fmt.Errorf("list the last stable offset: %w", err)
	}
	end, ok := ends.Lookup(topic, 0)
	if !ok || end.Err != nil {
		return count, fmt.Errorf("list the last stable offset of partition 0: found %t, %v", ok, end.Err)
	}
	if len(ends[topic]) != 1 {
		return count, fmt.Errorf("topic has %d partitions, want 1", len(ends[topic]))
	}

	consumer, err := kgo.NewClient(
		kgo.SeedBrokers(broker),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}),
	)
	if err != nil {
		return count, err
	}
	defer consumer.Close()

	keys := make(map[string]struct{}, want)
	next := int64(0)
	// Transaction markers take offsets but are never returned, so the last
	// record's offset stays below end-1. A poll that returns nothing for a
	// few seconds means that only markers are left.
	for next < end.Offset {
		pollCtx, cancelPoll := context.WithTimeout(ctx, 5*time.Second)
		fetches := consumer.PollFetches(pollCtx)
		cancelPoll()
		if ctx.Err() != nil {
			return count, fmt.Errorf("read up to offset %d: stopped at %d: %w", end.Offset, next, ctx.Err())
		}
		var fetchErr error
		fetches.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				fetchErr = errors.Join(fetchErr, err)
			}
		})
		if fetchErr != nil {
			return count, fmt.Errorf("read at offset %d: %w", next, fetchErr)
		}
		if fetches.NumRecords() == 0 {
			break
		}
		fetches.EachRecord(func(r *kgo.Record) {
			next = r.Offset + 1
			if r.Offset >= end.Offset {
				return
			}
			count.records++
			count.valueBytes += int64(len(r.Value))
			count.keyBytes += int64(len(r.Key))
			keys[string(r.Key)] = struct{}{}
		})
	}
	count.uniqueKeys = len(keys)
	return count, nil
}

// produceResult is the Kafka produce ceiling.
type produceResult struct {
	recordSize         int
	recordsPerSecond   float64
	megabytesPerSecond float64
	summary            string
	properties         []string
	classpath          string
	machineBusy        float64
}

// producerProperties maps the settings of sluice's franz-go producer in
// sink/producer.go, at sluice's defaults, onto the Java producer's names.
// franz-go allows 5 produce requests in flight per broker when idempotent,
// as Java does by default. sluice's limit of 20,000 buffered records has no
// Java counterpart, because Java bounds the buffer in bytes (buffer.memory,
// left at its default).
var producerProperties = []string{
	"acks=all",
	"linger.ms=0",
	"batch.size=1000000",
	"compression.type=none",
	"max.in.flight.requests.per.connection=5",
	"transaction.timeout.ms=60000",
	"delivery.timeout.ms=60000",
}

var summaryLine = regexp.MustCompile(`^(\d+) records sent, ([0-9.]+) records/sec \(([0-9.]+) MB/sec\)`)

// measureProduce runs Kafka's ProducerPerformance against a new topic with
// one partition and returns the rate from its summary line.
func measureProduce(ctx context.Context, s *settings, names benchNames, records, recordSize int) (produceResult, error) {
	result := produceResult{recordSize: recordSize}
	classpath, err := kafkaClasspath(ctx)
	if err != nil {
		return result, err
	}
	result.classpath = classpath

	if _, err := runTool(ctx, classpath, "org.apache.kafka.tools.TopicCommand",
		"--bootstrap-server", s.kafkaAddr, "--create", "--topic", names.perfTopic, "--partitions", "1"); err != nil {
		return result, err
	}

	result.properties = append([]string{"bootstrap.servers=" + s.kafkaAddr}, producerProperties...)
	args := []string{
		"--topic", names.perfTopic,
		"--num-records", strconv.Itoa(records),
		"--record-size", strconv.Itoa(recordSize),
		"--throughput", "-1",
		"--transactional-id", names.perfTopic,
		"--transaction-duration-ms", "200",
		"--command-property",
	}
	args = append(args, result.properties...)

	cpu := readMachineCPU()
	output, err := runTool(ctx, classpath, "org.apache.kafka.tools.ProducerPerformance", args...)
	if err != nil {
		return result, err
	}
	result.machineBusy = readMachineCPU().busySince(cpu)

	for line := range strings.SplitSeq(output, "\n") {
		line = strings.TrimSpace(line)
		match := summaryLine.FindStringSubmatch(line)
		if match == nil {
			continue
		}
		sent, _ := strconv.Atoi(match[1])
		if sent != records {
			continue // a progress line
		}
		result.summary = line
		result.recordsPerSecond, _ = strconv.ParseFloat(match[2], 64)
		result.megabytesPerSecond, _ = strconv.ParseFloat(match[3], 64)
	}
	if result.summary == "" {
		return result, fmt.Errorf("ProducerPerformance printed no summary line for %d records; its output:\n%s", records, output)
	}
	return result, nil
}

// kafkaClasspath returns the classpath that deploy/local/kafka.sh prints.
func kafkaClasspath(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "deploy/local/kafka.sh", "classpath")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("deploy/local/kafka.sh classpath: %w: %s", err, stderr.String())
	}
	classpath := strings.TrimSpace(string(out))
	if classpath == "" {
		return "", errors.New("deploy/local/kafka.sh classpath printed nothing")
	}
	return classpath, nil
}

// runTool runs the main class of a Kafka tool and returns its standard
// output, or an error that includes all its output.
func runTool(ctx context.Context, classpath, class string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "java", append([]string{"-cp", classpath, class}, args...)...)
	cmd.WaitDelay = 10 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w\nstdout:\n%s\nstderr:\n%s", class, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// kafkaVersion returns the version in the name of the kafka-clients jar on
// the classpath, or "" when there is none.
func kafkaVersion(classpath string) string {
	jar := regexp.MustCompile(`^kafka-clients-(.+)\.jar$`)
	for _, entry := range filepath.SplitList(classpath) {
		candidates := []string{entry}
		if strings.HasSuffix(entry, "*") {
			candidates, _ = filepath.Glob(strings.TrimSuffix(entry, "*") + "*.jar")
		}
		for _, path := range candidates {
			if match := jar.FindStringSubmatch(filepath.Base(path)); match != nil {
				return match[1]
			}
		}
	}
	return ""
}

// deleteTopics deletes topics, ignoring those that do not exist.
func deleteTopics(ctx context.Context, broker string, topics []string) error {
	client, err := kgo.NewClient(kgo.SeedBrokers(broker))
	if err != nil {
		return err
	}
	defer client.Close()
	responses, err := kadm.NewClient(client).DeleteTopics(ctx, topics...)
	if err != nil {
		return err
	}
	var errs []error
	for _, response := range responses {
		if response.Err != nil && !errors.Is(response.Err, kerr.UnknownTopicOrPartition) {
			errs = append(errs, fmt.Errorf("%s: %w", response.Topic, response.Err))
		}
	}
	return errors.Join(errs...)
}
