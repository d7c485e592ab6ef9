package main

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"
)

// Config is sluice's whole configuration, read from SLUICE_* environment
// variables. The tags carry the full names, because with a prefix envconfig
// would also read the bare names (MYSQL_USER, SERVER_ID, ...) that other
// programs in the same container set. Defaults live in the struct tags and nowhere else; validate
// checks what the tags cannot.
type Config struct {
	MySQLHost     string   `envconfig:"SLUICE_MYSQL_HOST" default:"127.0.0.1" desc:"source MySQL or MariaDB host"`
	MySQLPort     uint16   `envconfig:"SLUICE_MYSQL_PORT" default:"3306" desc:"source server port"`
	MySQLUser     string   `envconfig:"SLUICE_MYSQL_USER" default:"sluice" desc:"user with REPLICATION SLAVE and REPLICATION CLIENT"`
	MySQLPassword string   `envconfig:"SLUICE_MYSQL_PASSWORD" desc:"password of SLUICE_MYSQL_USER"`
	ServerID      uint32   `envconfig:"SLUICE_SERVER_ID" required:"true" desc:"server_id sluice registers with as a replica; unique among all servers and replicas of the source"`
	Databases     []string `envconfig:"SLUICE_DATABASES" desc:"comma-separated databases to capture; empty captures all but mysql, sys, information_schema and performance_schema"`

	KafkaBrokers           []string `envconfig:"SLUICE_KAFKA_BROKERS" default:"127.0.0.1:9092" desc:"comma-separated Kafka bootstrap brokers, host:port"`
	TopicPrefix            string   `envconfig:"SLUICE_TOPIC_PREFIX" default:"sluice" desc:"topics are named <prefix>.<database>.<table>; also source.name in records"`
	TopicPartitions        int32    `envconfig:"SLUICE_TOPIC_PARTITIONS" default:"1" desc:"partitions of topics sluice creates; -1 takes the broker default"`
	TopicReplicationFactor int16    `envconfig:"SLUICE_TOPIC_REPLICATION_FACTOR" default:"-1" desc:"replication factor of topics sluice creates; -1 takes the broker default"`
	Tombstones             bool     `envconfig:"SLUICE_TOMBSTONES" default:"true" desc:"follow each delete with a tombstone: a record with the same key and a null value"`

	StreamID       string `envconfig:"SLUICE_STREAM_ID" desc:"name of this stream: its position key and Kafka transactional id (sluice-<stream>); defaults to SLUICE_TOPIC_PREFIX"`
	OffsetsDir     string `envconfig:"SLUICE_OFFSETS_DIR" default:"./offsets" desc:"directory where the file tracker keeps <stream>/position.json"`
	PositionsTopic string `envconfig:"SLUICE_POSITIONS_TOPIC" default:"__sluice_positions" desc:"compacted topic that gets each stream's position inside every Kafka transaction"`

	CommitInterval     time.Duration `envconfig:"SLUICE_COMMIT_INTERVAL" default:"200ms" desc:"longest time between Kafka commits while changes arrive"`
	CommitRecords      int           `envconfig:"SLUICE_COMMIT_RECORDS" default:"10000" desc:"commit once a Kafka transaction holds this many records (at the next source transaction boundary)"`
	TransactionTimeout time.Duration `envconfig:"SLUICE_TRANSACTION_TIMEOUT" default:"60s" desc:"Kafka transaction.timeout.ms: the broker aborts a transaction left open longer"`
	MaxRecordBytes     int32         `envconfig:"SLUICE_MAX_RECORD_BYTES" default:"1000000" desc:"largest record batch sent to Kafka, in bytes; keep it at or below the topics' max.message.bytes"`
	StartupTimeout     time.Duration `envconfig:"SLUICE_STARTUP_TIMEOUT" default:"30s" desc:"how long to wait for MySQL and Kafka at start before exiting with an error"`
	ShutdownTimeout    time.Duration `envconfig:"SLUICE_SHUTDOWN_TIMEOUT" default:"10s" desc:"on SIGTERM, how long to keep reading to finish the open source transaction before aborting it"`

	LogLevel  string `envconfig:"SLUICE_LOG_LEVEL" default:"info" desc:"trace, debug, info, warn or error"`
	LogFormat string `envconfig:"SLUICE_LOG_FORMAT" default:"auto" desc:"json, console, or auto: console when stderr is a terminal"`
}

// loadConfig reads the environment and validates the result.
func loadConfig() (*Config, error) {
	var cfg Config
	if err := envconfig.Process("", &cfg); err != nil {
		return nil, explainEnvError(err)
	}
	if cfg.StreamID == "" {
		cfg.StreamID = cfg.TopicPrefix
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// explainEnvError rewrites envconfig's errors so they name the variable,
// the value and the fix.
func explainEnvError(err error) error {
	var parseErr *envconfig.ParseError
	if errors.As(err, &parseErr) {
		return fmt.Errorf("invalid value %q for %s: want a %s (%v); see sluice --help",
			parseErr.Value, parseErr.KeyName, parseErr.TypeName, parseErr.Err)
	}
	if strings.Contains(err.Error(), "required key") {
		return fmt.Errorf("%v: set it in the environment; see sluice --help", err)
	}
	return fmt.Errorf("read configuration: %w", err)
}

var topicName = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

func (c *Config) validate() error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if c.ServerID == 0 {
		add("SLUICE_SERVER_ID is 0: pick a server_id that no server or replica of the source uses, such as 1001")
	}
	if c.MySQLHost == "" {
		add("SLUICE_MYSQL_HOST is empty: set the source server's host name or address")
	}
	if len(c.KafkaBrokers) == 0 {
		add("SLUICE_KAFKA_BROKERS is empty: set host:port of at least one broker")
	}
	if !topicName.MatchString(c.TopicPrefix) {
		add("SLUICE_TOPIC_PREFIX %q is invalid: use letters, digits, '.', '_' and '-'", c.TopicPrefix)
	}
	if !topicName.MatchString(c.StreamID) {
		add("SLUICE_STREAM_ID %q is invalid: use letters, digits, '.', '_' and '-'", c.StreamID)
	}
	if !topicName.MatchString(c.PositionsTopic) {
		add("SLUICE_POSITIONS_TOPIC %q is invalid: use letters, digits, '.', '_' and '-'", c.PositionsTopic)
	}
	if c.TopicPartitions == 0 || c.TopicPartitions < -1 {
		add("SLUICE_TOPIC_PARTITIONS is %d: use a positive number, or -1 for the broker default", c.TopicPartitions)
	}
	if c.TopicReplicationFactor == 0 || c.TopicReplicationFactor < -1 {
		add("SLUICE_TOPIC_REPLICATION_FACTOR is %d: use a positive number, or -1 for the broker default", c.TopicReplicationFactor)
	}
	if c.CommitInterval <= 0 {
		add("SLUICE_COMMIT_INTERVAL is %s: use a positive duration such as 200ms", c.CommitInterval)
	}
	if c.CommitRecords <= 0 {
		add("SLUICE_COMMIT_RECORDS is %d: use a positive number", c.CommitRecords)
	}
	if c.TransactionTimeout < time.Second {
		add("SLUICE_TRANSACTION_TIMEOUT is %s: use at least 1s", c.TransactionTimeout)
	}
	if c.MaxRecordBytes < 1024 {
		add("SLUICE_MAX_RECORD_BYTES is %d: use at least 1024", c.MaxRecordBytes)
	}
	if c.StartupTimeout <= 0 {
		add("SLUICE_STARTUP_TIMEOUT is %s: use a positive duration such as 30s", c.StartupTimeout)
	}
	if c.ShutdownTimeout < 0 {
		add("SLUICE_SHUTDOWN_TIMEOUT is %s: use zero or a positive duration", c.ShutdownTimeout)
	}
	switch c.LogLevel {
	case "trace", "debug", "info", "warn", "error":
	default:
		add("SLUICE_LOG_LEVEL %q is invalid: use trace, debug, info, warn or error", c.LogLevel)
	}
	switch c.LogFormat {
	case "auto", "json", "console":
	default:
		add("SLUICE_LOG_FORMAT %q is invalid: use json, console or auto", c.LogFormat)
	}

	if len(problems) > 0 {
		return fmt.Errorf("invalid configuration:\n  - %s", strings.Join(problems, "\n  - "))
	}
	return nil
}
