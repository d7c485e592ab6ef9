// Package sink writes records to Kafka with a transactional franz-go
// producer, one Kafka transaction holding one or more whole source
// transactions together with the position they end at.
package sink

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Config is how to reach Kafka and how to create topics.
type Config struct {
	Brokers []string
	// TransactionalID identifies the producer across restarts. A new
	// producer with the same id fences the old one and aborts its open
	// transaction.
	TransactionalID string
	// Partitions and ReplicationFactor apply to topics sluice creates;
	// -1 takes the broker's default.
	Partitions        int32
	ReplicationFactor int16
	// TransactionTimeout is how long the broker lets a transaction stay open
	// before it aborts it.
	TransactionTimeout time.Duration
	// MaxRecordBytes is the largest record batch the producer sends.
	MaxRecordBytes int32
	// Log gets the Kafka client's warnings and errors.
	Log zerolog.Logger
}

// Producer produces records inside Kafka transactions. Its methods must be
// called from one goroutine.
type Producer struct {
	cfg    Config
	client *kgo.Client
	admin  *kadm.Client

	// topics maps each topic known to exist to the largest record it takes:
	// the smaller of its max.message.bytes and Config.MaxRecordBytes.
	topics map[string]int
	// compacted holds the topics whose cleanup.policy includes compact,
	// which reject records without a key.
	compacted map[string]bool

	inTxn   bool
	records int
	// topicRecords counts the open transaction's records by topic.
	topicRecords map[string]int
	// began is when the open transaction began.
	began time.Time

	mu         sync.Mutex
	produceErr error // first failed produce of the open transaction
}

// New connects to Kafka and initializes the transactional producer, which
// fences any older producer with the same transactional id. It fails when
// no broker responds before ctx ends.
func New(ctx context.Context, cfg Config) (*Producer, error) {
	client, err := kgo.NewClient(
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.TransactionalID(cfg.TransactionalID),
		kgo.TransactionTimeout(cfg.TransactionTimeout),
		kgo.ProducerBatchMaxBytes(cfg.MaxRecordBytes),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.ProducerLinger(0),
		kgo.MaxBufferedRecords(20000),
		kgo.RecordDeliveryTimeout(cfg.TransactionTimeout),
		kgo.WithLogger(kafkaLogger{log: cfg.Log}),
	)
	if err != nil {
		return nil, fmt.Errorf("create Kafka client: %w", err)
	}
	p := &Producer{cfg: cfg, client: client, admin: kadm.NewClient(client), topics: map[string]int{}, compacted: map[string]bool{},
		topicRecords: map[string]int{}}

	if _, err := p.admin.BrokerMetadata(ctx); err != nil {
		client.Close()
		return nil, fmt.Errorf("reach Kafka brokers %v: %w; check SLUICE_KAFKA_BROKERS and that the brokers run", cfg.Brokers, err)
	}
	// Initializing the producer id now, rather than at the first record,
	// fences an older sluice with the same stream and has the broker abort
	// whatever transaction it left open, before anything reads the topics.
	if _, _, err := client.ProducerID(ctx); err != nil {
		client.Close()
		return nil, fmt.Errorf("initialize transactional producer %q: %w", cfg.TransactionalID, err)
	}
	return p, nil
}

// Client returns the underlying Kafka client, for reading.
func (p *Producer) Client() *kgo.Client {
	return p.client
}

// Close closes the client. An open transaction is left to the broker, which
// aborts it when the next producer with the same id starts or when it times
// out.
func (p *Producer) Close() {
	p.client.Close()
}

// EnsureTopic creates topic if it does not exist yet, with extra topic
// configs, and looks up the largest record it takes.
func (p *Producer) EnsureTopic(ctx context.Context, topic string, configs map[string]*string) error {
	if _, ok := p.topics[topic]; ok {
		return nil
	}
	resp, err := p.admin.CreateTopic(ctx, p.cfg.Partitions, p.cfg.ReplicationFactor, configs, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create topic %q: %w", topic, err)
	}

	limit := int(p.cfg.MaxRecordBytes)
	described, err := p.admin.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return fmt.Errorf("describe topic %q: %w", topic, err)
	}
	for _, resource := range described {
		for _, c := range resource.Configs {
			if c.Value == nil {
				continue
			}
			switch c.Key {
			case "max.message.bytes":
				if n, err := strconv.Atoi(*c.Value); err == nil && n < limit {
					limit = n
				}
			case "cleanup.policy":
				p.compacted[topic] = strings.Contains(*c.Value, "compact")
			}
		}
	}
	p.topics[topic] = limit
	return nil
}

// Compacted reports whether topic, looked up by EnsureTopic, is compacted
// and so rejects records without a key.
func (p *Producer) Compacted(topic string) bool {
	return p.compacted[topic]
}

// recordOverhead is an upper estimate of the bytes a record adds to its key
// and value inside a batch: length varints, offset and timestamp deltas,
// attributes, and the batch header of a batch that holds only this record.
const recordOverhead = 128

// ErrRecordTooLarge is wrapped by the error CheckSize returns.
var ErrRecordTooLarge = errors.New("record too large for its topic")

// CheckSize returns an error wrapping ErrRecordTooLarge when a record with
// this key and value would exceed its topic's limit, which EnsureTopic
// looked up.
func (p *Producer) CheckSize(topic string, key, value []byte) error {
	limit, ok := p.topics[topic]
	if !ok {
		limit = int(p.cfg.MaxRecordBytes)
	}
	if size := len(key) + len(value) + recordOverhead; size > limit {
		return fmt.Errorf("%w: %d bytes (key and value, plus up to %d of framing) for topic %q, "+
			"which takes %d (the smaller of its max.message.bytes and SLUICE_MAX_RECORD_BYTES)",
			ErrRecordTooLarge, size-recordOverhead, recordOverhead, topic, limit)
	}
	return nil
}

// Produce adds a record to the open transaction, beginning one if none is
// open. It returns once the record is buffered, blocking while the buffer
// is full; delivery errors surface at Commit.
func (p *Producer) Produce(ctx context.Context, r *kgo.Record) error {
	if !p.inTxn {
		if err := p.client.BeginTransaction(); err != nil {
			return fmt.Errorf("begin Kafka transaction: %w", err)
		}
		p.inTxn = true
		p.records = 0
		clear(p.topicRecords)
		p.began = time.Now()
	}
	p.records++
	p.topicRecords[r.Topic]++
	p.client.Produce(ctx, r, p.promise)
	return nil
}

func (p *Producer) promise(r *kgo.Record, err error) {
	if err == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.produceErr == nil {
		p.produceErr = fmt.Errorf("produce to topic %q: %w", r.Topic, err)
	}
}

// Records returns the number of records in the open transaction, or 0
// when none is open.
func (p *Producer) Records() int {
	if !p.inTxn {
		return 0
	}
	return p.records
}

// TopicRecords returns the number of records in the open transaction by
// topic, or nil when none is open. The map is the producer's own: it stays
// valid through Commit or Abort and is reused by the next transaction.
func (p *Producer) TopicRecords() map[string]int {
	if !p.inTxn {
		return nil
	}
	return p.topicRecords
}

// TransactionAge returns how long the open transaction has been open, or
// 0 when none is.
func (p *Producer) TransactionAge() time.Duration {
	if !p.inTxn {
		return 0
	}
	return time.Since(p.began)
}

// InTransaction reports whether a transaction is open.
func (p *Producer) InTransaction() bool {
	return p.inTxn
}

// Commit flushes the open transaction and commits it. When any record
// failed, it aborts the transaction instead and returns the failure. On
// success every record is visible to read_committed consumers.
func (p *Producer) Commit(ctx context.Context) error {
	if !p.inTxn {
		return nil
	}
	if err := p.client.Flush(ctx); err != nil {
		return fmt.Errorf("flush Kafka transaction: %w", err)
	}
	p.mu.Lock()
	produceErr := p.produceErr
	p.mu.Unlock()

	if produceErr != nil {
		if err := p.Abort(ctx); err != nil {
			return errors.Join(produceErr, err)
		}
		return produceErr
	}
	if err := p.client.EndTransaction(ctx, kgo.TryCommit); err != nil {
		return fmt.Errorf("commit Kafka transaction: %w", err)
	}
	p.inTxn = false
	return nil
}

// Abort drops the records of the open transaction; read_committed
// consumers never see them.
func (p *Producer) Abort(ctx context.Context) error {
	if !p.inTxn {
		return nil
	}
	if err := p.client.AbortBufferedRecords(ctx); err != nil {
		return fmt.Errorf("abort buffered records: %w", err)
	}
	if err := p.client.EndTransaction(ctx, kgo.TryAbort); err != nil {
		return fmt.Errorf("abort Kafka transaction: %w", err)
	}
	p.inTxn = false
	p.mu.Lock()
	p.produceErr = nil
	p.mu.Unlock()
	return nil
}
