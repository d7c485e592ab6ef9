package main

import (
	"errors"
	"fmt"
	"net"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/agnivade/levenshtein"
	"github.com/kelseyhightower/envconfig"

	"github.com/sluice-cdc/sluice/codec"
	"github.com/sluice-cdc/sluice/offsets"
	"github.com/sluice-cdc/sluice/schema"
)

// Config is sluice's whole configuration, read from SLUICE_* environment
// variables. The tags carry the full names, because with a prefix envconfig
// would also read the bare names (MYSQL_USER, SERVER_ID, ...) that other
// programs in the same container set. Defaults live in the struct tags and nowhere else; validate
// checks what the tags cannot.
type Config struct {
	SourceSettings
	ServerID uint32 `envconfig:"SLUICE_SERVER_ID" required:"true" desc:"server_id sluice registers with as a replica; unique among all servers and replicas of the source"`

	Databases        []string `envconfig:"SLUICE_DATABASES" desc:"comma-separated regular expressions of databases to capture; empty captures all but mysql, sys, information_schema and performance_schema"`
	ExcludeDatabases []string `envconfig:"SLUICE_EXCLUDE_DATABASES" desc:"comma-separated regular expressions of databases not to capture"`
	Tables           []string `envconfig:"SLUICE_TABLES" desc:"comma-separated regular expressions of tables to capture, matched against <database>.<table>; empty captures all"`
	ExcludeTables    []string `envconfig:"SLUICE_EXCLUDE_TABLES" desc:"comma-separated regular expressions of <database>.<table> not to capture"`
	ExcludeColumns   []string `envconfig:"SLUICE_EXCLUDE_COLUMNS" desc:"comma-separated regular expressions of <database>.<table>.<column> left out of before and after"`
	HashColumns      []string `envconfig:"SLUICE_HASH_COLUMNS" desc:"comma-separated regular expressions of <database>.<table>.<column> whose values are replaced by hex SHA-256 of SLUICE_HASH_SALT and the value"`
	HashSalt         string   `envconfig:"SLUICE_HASH_SALT" desc:"salt for SLUICE_HASH_COLUMNS; required when that is set"`
	Operations       []string `envconfig:"SLUICE_OPERATIONS" default:"c,u,d,t" desc:"operations to emit: c (create), u (update), d (delete), t (truncate)"`

	KafkaBrokers           []string `envconfig:"SLUICE_KAFKA_BROKERS" default:"127.0.0.1:9092" desc:"comma-separated Kafka bootstrap brokers, host:port"`
	TopicPrefix            string   `envconfig:"SLUICE_TOPIC_PREFIX" default:"sluice" desc:"topics are named <prefix>.<database>.<table>; also source.name in records"`
	TopicPartitions        int32    `envconfig:"SLUICE_TOPIC_PARTITIONS" default:"1" desc:"partitions of topics sluice creates; -1 takes the broker default"`
	TopicReplicationFactor int16    `envconfig:"SLUICE_TOPIC_REPLICATION_FACTOR" default:"-1" desc:"replication factor of topics sluice creates; -1 takes the broker default"`
	Tombstones             bool     `envconfig:"SLUICE_TOMBSTONES" default:"true" desc:"follow each delete with a tombstone: a record with the same key and a null value (none for tables without a primary key, whose records have no key)"`
	CreateTopicsAtStart    bool     `envconfig:"SLUICE_CREATE_TOPICS_AT_START" default:"true" desc:"create the topics of all captured tables at start, so consumers can subscribe before the first change; false creates each at its table's first change"`
	SchemaChangesTopic     string   `envconfig:"SLUICE_SCHEMA_CHANGES_TOPIC" desc:"topic that gets a record for each DDL statement in a captured database; empty turns these records off"`

	Format                           string        `envconfig:"SLUICE_FORMAT" default:"json" desc:"record format: json, or avro in the Confluent wire format with schemas in SLUICE_SCHEMA_REGISTRY_URL"`
	SchemaRegistryURL                string        `envconfig:"SLUICE_SCHEMA_REGISTRY_URL" desc:"Confluent-compatible schema registry for avro, such as http://127.0.0.1:8081/apis/ccompat/v7 for Apicurio Registry"`
	SchemaRegistryUsername           string        `envconfig:"SLUICE_SCHEMA_REGISTRY_USERNAME" desc:"user name for the registry's basic authentication"`
	SchemaRegistryPassword           string        `envconfig:"SLUICE_SCHEMA_REGISTRY_PASSWORD" desc:"password for the registry's basic authentication"`
	SchemaRegistryCAFile             string        `envconfig:"SLUICE_SCHEMA_REGISTRY_CA_FILE" desc:"PEM file of the CA certificates that verify an https registry, in place of the system's"`
	SchemaRegistryInsecureSkipVerify bool          `envconfig:"SLUICE_SCHEMA_REGISTRY_INSECURE_SKIP_VERIFY" default:"false" desc:"do not verify the https registry's certificate (for tests only)"`
	SchemaRegistryTimeout            time.Duration `envconfig:"SLUICE_SCHEMA_REGISTRY_TIMEOUT" default:"30s" desc:"how long to retry an unreachable registry before stopping with an error"`

	DecimalMode     string `envconfig:"SLUICE_DECIMAL_MODE" default:"string" desc:"DECIMAL as string (exact text), precise (Kafka Connect Decimal: unscaled bytes in base64) or double (may round)"`
	TimeMode        string `envconfig:"SLUICE_TIME_MODE" default:"iso" desc:"iso: DATE, DATETIME and TIME as the server's text; connect: Debezium's epoch numbers. TIMESTAMP is ISO 8601 UTC in both"`
	BinaryMode      string `envconfig:"SLUICE_BINARY_MODE" default:"base64" desc:"binary column values as base64 or hex"`
	OversizeRecords string `envconfig:"SLUICE_OVERSIZE_RECORDS" default:"fail" desc:"a record larger than its topic's max.message.bytes: fail (stop with an error) or skip (log and leave it out)"`

	StreamID       string `envconfig:"SLUICE_STREAM_ID" desc:"name of this stream: its position key and Kafka transactional id (sluice-<stream>); defaults to SLUICE_TOPIC_PREFIX"`
	OffsetsType    string `envconfig:"SLUICE_OFFSETS_TYPE" default:"file" desc:"where positions are kept: file, azblob, kafka, mysql, postgres, or a registered custom tracker; see Position trackers below"`
	OffsetsDir     string `envconfig:"SLUICE_OFFSETS_DIR" default:"./offsets" desc:"directory where the file tracker keeps <stream>/position.json, and where the schema history is kept with every tracker"`
	PurgedPosition string `envconfig:"SLUICE_PURGED_POSITION" default:"fail" desc:"when the saved position's binlog file was purged: fail (stop with an error) or current (start at the server's current position; the changes in between are not emitted)"`
	PositionsTopic string `envconfig:"SLUICE_POSITIONS_TOPIC" default:"__sluice_positions" desc:"compacted topic that gets each stream's position inside every Kafka transaction"`

	CommitInterval     time.Duration `envconfig:"SLUICE_COMMIT_INTERVAL" default:"200ms" desc:"longest time between Kafka commits while changes arrive"`
	CommitRecords      int           `envconfig:"SLUICE_COMMIT_RECORDS" default:"10000" desc:"commit once a Kafka transaction holds this many records (at the next source transaction boundary)"`
	TransactionTimeout time.Duration `envconfig:"SLUICE_TRANSACTION_TIMEOUT" default:"60s" desc:"Kafka transaction.timeout.ms: the broker aborts a transaction left open longer"`
	MaxRecordBytes     int32         `envconfig:"SLUICE_MAX_RECORD_BYTES" default:"1000000" desc:"largest record batch sent to Kafka, in bytes; keep it at or below the topics' max.message.bytes"`
	StartupTimeout     time.Duration `envconfig:"SLUICE_STARTUP_TIMEOUT" default:"30s" desc:"how long to wait for MySQL, Kafka and the tracker's server at start before exiting with an error"`
	ShutdownTimeout    time.Duration `envconfig:"SLUICE_SHUTDOWN_TIMEOUT" default:"10s" desc:"on SIGTERM, how long to keep reading to finish the open source transaction before aborting it"`

	MetricsAddr string `envconfig:"SLUICE_METRICS_ADDR" desc:"host:port where Prometheus metrics are served at /metrics and readiness at /healthz, such as :9400; empty serves none"`

	LogLevel  string `envconfig:"SLUICE_LOG_LEVEL" default:"info" desc:"trace, debug, info, warn or error"`
	LogFormat string `envconfig:"SLUICE_LOG_FORMAT" default:"auto" desc:"json, console, or auto: console when stderr is a terminal"`
}

// SourceSettings is how to reach the source server. The worker and the
// offsets command read it.
type SourceSettings struct {
	MySQLHost     string `envconfig:"SLUICE_MYSQL_HOST" default:"127.0.0.1" desc:"source MySQL or MariaDB host"`
	MySQLPort     uint16 `envconfig:"SLUICE_MYSQL_PORT" default:"3306" desc:"source server port"`
	MySQLUser     string `envconfig:"SLUICE_MYSQL_USER" default:"sluice" desc:"user with REPLICATION SLAVE and REPLICATION CLIENT"`
	MySQLPassword string `envconfig:"SLUICE_MYSQL_PASSWORD" desc:"password of SLUICE_MYSQL_USER"`
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
	cfg.OversizeRecords = strings.ToLower(cfg.OversizeRecords)
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// filter compiles the capture filter. validate has checked the patterns.
func (c *Config) filter() (*schema.Filter, error) {
	var f schema.Filter
	lists := []struct {
		variable string
		patterns []string
		target   *[]*regexp.Regexp
	}{
		{"SLUICE_DATABASES", c.Databases, &f.IncludeDatabases},
		{"SLUICE_EXCLUDE_DATABASES", c.ExcludeDatabases, &f.ExcludeDatabases},
		{"SLUICE_TABLES", c.Tables, &f.IncludeTables},
		{"SLUICE_EXCLUDE_TABLES", c.ExcludeTables, &f.ExcludeTables},
		{"SLUICE_EXCLUDE_COLUMNS", c.ExcludeColumns, &f.ExcludeColumns},
		{"SLUICE_HASH_COLUMNS", c.HashColumns, &f.HashColumns},
	}
	for _, list := range lists {
		compiled, err := schema.CompilePatterns(list.variable, list.patterns)
		if err != nil {
			return nil, err
		}
		*list.target = compiled
	}
	return &f, nil
}

// operations returns the set of operation codes to emit.
func (c *Config) operations() map[string]bool {
	ops := map[string]bool{}
	for _, op := range c.Operations {
		ops[strings.TrimSpace(op)] = true
	}
	return ops
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
	for _, broker := range c.KafkaBrokers {
		// Without a port, the Kafka client would quietly try 9092.
		if host, port, err := net.SplitHostPort(broker); err != nil || host == "" || port == "" {
			add("SLUICE_KAFKA_BROKERS entry %q is not host:port: give each broker's port too, such as %s:9092", broker, broker)
		}
	}
	switch {
	case c.Format != "json" && c.Format != "avro":
		add("SLUICE_FORMAT %q is invalid: use json or avro", c.Format)
	case c.Format == "avro" && c.SchemaRegistryURL == "":
		add("SLUICE_FORMAT=avro needs SLUICE_SCHEMA_REGISTRY_URL: set the URL of a Confluent-compatible schema registry, " +
			"such as http://127.0.0.1:8081/apis/ccompat/v7 for Apicurio Registry")
	}
	if c.SchemaRegistryTimeout <= 0 {
		add("SLUICE_SCHEMA_REGISTRY_TIMEOUT %s is invalid: give a positive duration such as 30s", c.SchemaRegistryTimeout)
	}
	if c.PurgedPosition != "fail" && c.PurgedPosition != "current" {
		add("SLUICE_PURGED_POSITION %q is invalid: use fail or current", c.PurgedPosition)
	}
	if !offsets.IsRegistered(c.OffsetsType) {
		add("SLUICE_OFFSETS_TYPE %q is not a tracker: use one of %s", c.OffsetsType, strings.Join(offsets.Types(), ", "))
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
	if c.SchemaChangesTopic != "" && !topicName.MatchString(c.SchemaChangesTopic) {
		add("SLUICE_SCHEMA_CHANGES_TOPIC %q is invalid: use letters, digits, '.', '_' and '-'", c.SchemaChangesTopic)
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
	if _, err := c.filter(); err != nil {
		add("%v", err)
	}
	if len(c.HashColumns) > 0 && c.HashSalt == "" {
		add("SLUICE_HASH_SALT is empty while SLUICE_HASH_COLUMNS is set: set a secret salt, or unhashed values could be found by hashing guesses")
	}
	if len(c.operations()) == 0 || (len(c.operations()) == 1 && c.operations()[""]) {
		add("SLUICE_OPERATIONS is empty, so sluice would write nothing: use a comma-separated subset of c, u, d and t")
	}
	if strings.TrimSpace(c.OffsetsDir) == "" {
		add("SLUICE_OFFSETS_DIR is empty: set the directory where positions are kept, such as ./offsets")
	}
	for op := range c.operations() {
		switch op {
		case "c", "u", "d", "t":
		default:
			add("SLUICE_OPERATIONS contains %q: use a comma-separated subset of c, u, d and t", op)
		}
	}
	if _, err := codec.ParseOptions(c.DecimalMode, c.TimeMode, c.BinaryMode); err != nil {
		add("%v", err)
	}
	switch c.OversizeRecords {
	case "fail", "skip":
	default:
		add("SLUICE_OVERSIZE_RECORDS %q is invalid: use fail or skip", c.OversizeRecords)
	}
	if c.MetricsAddr != "" {
		if _, port, err := net.SplitHostPort(c.MetricsAddr); err != nil || port == "" {
			add("SLUICE_METRICS_ADDR %q is not host:port: give a port to listen on, such as :9400 or 127.0.0.1:9400", c.MetricsAddr)
		}
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

// variableFields returns the settings fields of every variable that sluice
// reads, each name once: the worker's, then those of each registered
// tracker backend. A backend may read a worker variable too, such as
// SLUICE_OFFSETS_DIR.
func variableFields() []reflect.StructField {
	types := []reflect.Type{reflect.TypeOf(Config{})}
	for _, name := range offsets.Types() {
		types = append(types, reflect.TypeOf(offsets.Settings(name)).Elem())
	}
	seen := map[string]bool{}
	var fields []reflect.StructField
	for _, t := range types {
		for _, field := range reflect.VisibleFields(t) {
			if name := field.Tag.Get("envconfig"); name != "" && !seen[name] {
				seen[name] = true
				fields = append(fields, field)
			}
		}
	}
	return fields
}

// unknownVariable is a SLUICE_ variable of the environment that sluice
// does not read, with the known name closest to it.
type unknownVariable struct {
	name, suggestion string
}

// String reports the variable as ignored and names the one likely meant.
func (u unknownVariable) String() string {
	if u.suggestion == "" {
		return u.name + " is not a sluice variable and is ignored; see sluice --help"
	}
	return u.name + " is not a sluice variable and is ignored; did you mean " + u.suggestion + "?"
}

// toolVariables are SLUICE_ variables of the project's own scripts and
// tests, which share the environment of a sluice started from them.
var toolVariables = map[string]bool{
	"SLUICE_REPO_DIR": true, "SLUICE_LOCAL_DIR": true, "SLUICE_CACHE_DIR": true, "SLUICE_CRASH_KILLS": true,
}

// unknownVariables finds the SLUICE_ variables of environ that sluice does
// not read. A misspelled name would otherwise leave its setting at the
// default without a word. Each comes with the known name it most likely
// means, when one is within a few typing errors of it.
func unknownVariables(environ []string) []unknownVariable {
	known := map[string]bool{}
	for _, field := range variableFields() {
		known[field.Tag.Get("envconfig")] = true
	}
	var unknown []unknownVariable
	for _, entry := range environ {
		name, _, _ := strings.Cut(entry, "=")
		if !strings.HasPrefix(strings.ToUpper(name), "SLUICE_") || known[name] || toolVariables[name] {
			continue
		}
		u := unknownVariable{name: name}
		best := 4 // more edits than this is a different name, not a typo
		for candidate := range known {
			d := levenshtein.ComputeDistance(strings.ToUpper(name), candidate)
			if d < best || (d == best && candidate < u.suggestion) {
				u.suggestion, best = candidate, d
			}
		}
		unknown = append(unknown, u)
	}
	slices.SortFunc(unknown, func(a, b unknownVariable) int { return strings.Compare(a.name, b.name) })
	return unknown
}
