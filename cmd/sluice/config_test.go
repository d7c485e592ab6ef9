package main

import (
	"bufio"
	"io"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// variablePrefix starts the name of every variable that sluice reads.
const variablePrefix = "SLUICE_"

// configVariables returns the environment variable of each Config field,
// by field name, from the envconfig struct tags. A tag may name the
// variable with or without the SLUICE_ prefix.
func configVariables(t *testing.T) map[string]string {
	t.Helper()
	variables := make(map[string]string)
	for _, field := range reflect.VisibleFields(reflect.TypeFor[Config]()) {
		if field.Anonymous {
			continue // an embedded group of settings, whose fields follow
		}
		name := strings.ToUpper(field.Tag.Get("envconfig"))
		if name == "" {
			t.Fatalf("Config.%s has no envconfig tag", field.Name)
		}
		if !strings.HasPrefix(name, variablePrefix) {
			name = variablePrefix + name
		}
		variables[field.Name] = name
	}
	return variables
}

// unsetEnv removes name from the environment for the rest of the test and
// restores its old value afterwards.
func unsetEnv(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "")
	if err := os.Unsetenv(name); err != nil {
		t.Fatalf("unset %s: %v", name, err)
	}
}

// clearEnv removes every SLUICE_ variable from the environment, and the
// un-prefixed names that envconfig also looks up (MYSQL_PORT for
// SLUICE_MYSQL_PORT), so the outer environment cannot change a result.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, entry := range os.Environ() {
		name, _, _ := strings.Cut(entry, "=")
		if strings.HasPrefix(name, variablePrefix) {
			unsetEnv(t, name)
		}
	}
	for _, variable := range configVariables(t) {
		unsetEnv(t, variable)
		unsetEnv(t, strings.TrimPrefix(variable, variablePrefix))
	}
}

// setEnv sets each variable of env for the rest of the test.
func setEnv(t *testing.T, env map[string]string) {
	t.Helper()
	for name, value := range env {
		t.Setenv(name, value)
	}
}

// helpDefaults runs printHelp and returns its DEFAULT column by variable.
func helpDefaults(t *testing.T) map[string]string {
	t.Helper()
	reader, writer, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = writer
	done := make(chan []byte)
	go func() {
		output, _ := io.ReadAll(reader)
		done <- output
	}()
	printHelp()
	os.Stdout = stdout
	if err := writer.Close(); err != nil {
		t.Fatal(err)
	}
	output := <-done

	defaults := make(map[string]string)
	defaultColumn, meaningColumn := -1, -1
	scanner := bufio.NewScanner(strings.NewReader(string(output)))
	for scanner.Scan() {
		line := scanner.Text()
		if strings.HasPrefix(line, "VARIABLE") {
			defaultColumn = strings.Index(line, "DEFAULT")
			meaningColumn = strings.Index(line, "MEANING")
			continue
		}
		if defaultColumn < 0 || !strings.HasPrefix(line, variablePrefix) {
			continue
		}
		if len(line) < meaningColumn {
			t.Fatalf("help line %q is shorter than the table header", line)
		}
		name := strings.TrimSpace(line[:defaultColumn])
		defaults[name] = strings.TrimSpace(line[defaultColumn:meaningColumn])
	}
	if defaultColumn < 0 || meaningColumn < 0 {
		t.Fatalf("help has no VARIABLE DEFAULT MEANING header:\n%s", output)
	}
	return defaults
}

// parseDefault converts a default as the help prints it to a value of typ,
// the way a reader of the help would: comma-separated lists, Go durations.
func parseDefault(t *testing.T, typ reflect.Type, text string) reflect.Value {
	t.Helper()
	value := reflect.New(typ).Elem()
	if text == "" {
		return value
	}
	var err error
	switch {
	case typ == reflect.TypeFor[time.Duration]():
		var d time.Duration
		d, err = time.ParseDuration(text)
		value.SetInt(int64(d))
	case typ.Kind() == reflect.String:
		value.SetString(text)
	case typ.Kind() == reflect.Bool:
		var b bool
		b, err = strconv.ParseBool(text)
		value.SetBool(b)
	case value.CanInt():
		var n int64
		n, err = strconv.ParseInt(text, 10, typ.Bits())
		value.SetInt(n)
	case value.CanUint():
		var n uint64
		n, err = strconv.ParseUint(text, 10, typ.Bits())
		value.SetUint(n)
	case typ.Kind() == reflect.Slice && typ.Elem().Kind() == reflect.String:
		value.Set(reflect.ValueOf(strings.Split(text, ",")))
	default:
		t.Fatalf("no parser for a default of type %s", typ)
	}
	if err != nil {
		t.Fatalf("help default %q is not a valid %s: %v", text, typ, err)
	}
	return value
}

func TestLoadConfigDefaults(t *testing.T) {
	clearEnv(t)
	t.Setenv("SLUICE_SERVER_ID", "1001")

	cfg, err := loadConfig()
	if err != nil {
		t.Fatalf("loadConfig error: %v", err)
	}

	helped := helpDefaults(t)
	variables := configVariables(t)
	if len(helped) != len(variables) {
		t.Errorf("help lists %d variables; want one for each of the %d Config fields", len(helped), len(variables))
	}

	got := reflect.ValueOf(cfg).Elem()
	for _, field := range reflect.VisibleFields(got.Type()) {
		if field.Anonymous {
			continue
		}
		variable := variables[field.Name]
		text, ok := helped[variable]
		if !ok {
			t.Errorf("help does not list %s (Config.%s)", variable, field.Name)
			continue
		}

		switch field.Name {
		case "ServerID":
			if text != "(required)" {
				t.Errorf("help default of %s = %q; want (required)", variable, text)
			}
			if cfg.ServerID != 1001 {
				t.Errorf("ServerID = %d; want 1001 from SLUICE_SERVER_ID", cfg.ServerID)
			}
			continue
		case "StreamID":
			// The help documents SLUICE_TOPIC_PREFIX as the default stream id.
			if cfg.StreamID != cfg.TopicPrefix {
				t.Errorf("StreamID = %q; want the topic prefix %q", cfg.StreamID, cfg.TopicPrefix)
			}
			continue
		}

		if tag := field.Tag.Get("default"); text != tag {
			t.Errorf("help default of %s = %q; want the tag default %q", variable, text, tag)
		}
		want := parseDefault(t, field.Type, text)
		if value := got.FieldByIndex(field.Index).Interface(); !reflect.DeepEqual(value, want.Interface()) {
			t.Errorf("%s unset: Config.%s = %#v; want %#v as the help documents", variable, field.Name, value, want.Interface())
		}
	}
}

func TestLoadConfigStreamID(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"default prefix", map[string]string{}, "sluice"},
		{"from topic prefix", map[string]string{"SLUICE_TOPIC_PREFIX": "prod.eu-1"}, "prod.eu-1"},
		{"explicit", map[string]string{"SLUICE_TOPIC_PREFIX": "prod", "SLUICE_STREAM_ID": "orders"}, "orders"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			t.Setenv("SLUICE_SERVER_ID", "1001")
			setEnv(t, tc.env)

			cfg, err := loadConfig()
			if err != nil {
				t.Fatalf("loadConfig error: %v", err)
			}
			if cfg.StreamID != tc.want {
				t.Errorf("StreamID = %q; want %q", cfg.StreamID, tc.want)
			}
		})
	}
}

func TestLoadConfigValues(t *testing.T) {
	clearEnv(t)
	setEnv(t, map[string]string{
		"SLUICE_SERVER_ID":           "4294967295",
		"SLUICE_MYSQL_HOST":          "db.example.com",
		"SLUICE_MYSQL_PORT":          "65535",
		"SLUICE_DATABASES":           "shop,crm",
		"SLUICE_KAFKA_BROKERS":       "k1:9092,k2:9092",
		"SLUICE_TOPIC_PARTITIONS":    "-1",
		"SLUICE_TOMBSTONES":          "false",
		"SLUICE_COMMIT_INTERVAL":     "1m30s",
		"SLUICE_SHUTDOWN_TIMEOUT":    "0s",
		"SLUICE_TRANSACTION_TIMEOUT": "1s",
		"SLUICE_MAX_RECORD_BYTES":    "1024",
		"SLUICE_LOG_LEVEL":           "debug",
		"SLUICE_LOG_FORMAT":          "json",
	})

	cfg, err := loadConfig()
	if err != nil {
		t.Fatalf("loadConfig error: %v", err)
	}
	if cfg.ServerID != 4294967295 {
		t.Errorf("ServerID = %d; want 4294967295", cfg.ServerID)
	}
	if cfg.MySQLHost != "db.example.com" {
		t.Errorf("MySQLHost = %q; want db.example.com", cfg.MySQLHost)
	}
	if cfg.MySQLPort != 65535 {
		t.Errorf("MySQLPort = %d; want 65535", cfg.MySQLPort)
	}
	if want := []string{"shop", "crm"}; !slices.Equal(cfg.Databases, want) {
		t.Errorf("Databases = %q; want %q", cfg.Databases, want)
	}
	if want := []string{"k1:9092", "k2:9092"}; !slices.Equal(cfg.KafkaBrokers, want) {
		t.Errorf("KafkaBrokers = %q; want %q", cfg.KafkaBrokers, want)
	}
	if cfg.TopicPartitions != -1 {
		t.Errorf("TopicPartitions = %d; want -1", cfg.TopicPartitions)
	}
	if cfg.Tombstones {
		t.Error("Tombstones = true; want false")
	}
	if cfg.CommitInterval != 90*time.Second {
		t.Errorf("CommitInterval = %s; want 1m30s", cfg.CommitInterval)
	}
	if cfg.ShutdownTimeout != 0 {
		t.Errorf("ShutdownTimeout = %s; want 0s", cfg.ShutdownTimeout)
	}
	if cfg.TransactionTimeout != time.Second {
		t.Errorf("TransactionTimeout = %s; want 1s", cfg.TransactionTimeout)
	}
	if cfg.MaxRecordBytes != 1024 {
		t.Errorf("MaxRecordBytes = %d; want 1024", cfg.MaxRecordBytes)
	}
	if cfg.LogLevel != "debug" {
		t.Errorf("LogLevel = %q; want debug", cfg.LogLevel)
	}
	if cfg.LogFormat != "json" {
		t.Errorf("LogFormat = %q; want json", cfg.LogFormat)
	}
}

// namesVariable reports whether message contains variable as a whole
// name, so SLUICE_SLUICE_MYSQL_PORT or SERVER_ID alone do not count.
func namesVariable(message, variable string) bool {
	pattern := `(^|[^A-Za-z0-9_])` + regexp.QuoteMeta(variable) + `($|[^A-Za-z0-9_])`
	return regexp.MustCompile(pattern).MatchString(message)
}

func TestLoadConfigInvalid(t *testing.T) {
	cases := []struct {
		name     string
		env      map[string]string
		variable string
		// value is the text the message must show, or "" when the variable
		// is missing.
		value string
	}{
		{"port not a number", map[string]string{"SLUICE_MYSQL_PORT": "abc"}, "SLUICE_MYSQL_PORT", "abc"},
		{"port out of range", map[string]string{"SLUICE_MYSQL_PORT": "70000"}, "SLUICE_MYSQL_PORT", "70000"},
		{"server id missing", map[string]string{"SLUICE_SERVER_ID": ""}, "SLUICE_SERVER_ID", ""},
		{"server id zero", map[string]string{"SLUICE_SERVER_ID": "0"}, "SLUICE_SERVER_ID", "0"},
		{"server id negative", map[string]string{"SLUICE_SERVER_ID": "-1"}, "SLUICE_SERVER_ID", "-1"},
		{"server id too large", map[string]string{"SLUICE_SERVER_ID": "4294967296"}, "SLUICE_SERVER_ID", "4294967296"},
		{"commit interval negative", map[string]string{"SLUICE_COMMIT_INTERVAL": "-1s"}, "SLUICE_COMMIT_INTERVAL", "-1s"},
		{"commit interval zero", map[string]string{"SLUICE_COMMIT_INTERVAL": "0s"}, "SLUICE_COMMIT_INTERVAL", "0s"},
		{"commit interval no unit", map[string]string{"SLUICE_COMMIT_INTERVAL": "200"}, "SLUICE_COMMIT_INTERVAL", "200"},
		{"topic prefix with space", map[string]string{"SLUICE_TOPIC_PREFIX": "bad prefix"}, "SLUICE_TOPIC_PREFIX", "bad prefix"},
		{"stream id with slash", map[string]string{"SLUICE_STREAM_ID": "a/b"}, "SLUICE_STREAM_ID", "a/b"},
		{"positions topic empty", map[string]string{"SLUICE_POSITIONS_TOPIC": ""}, "SLUICE_POSITIONS_TOPIC", `""`},
		{"log level unknown", map[string]string{"SLUICE_LOG_LEVEL": "loud"}, "SLUICE_LOG_LEVEL", "loud"},
		{"log level empty", map[string]string{"SLUICE_LOG_LEVEL": ""}, "SLUICE_LOG_LEVEL", `""`},
		// The help lists trace, debug, info, warn and error. "disabled" would
		// also hide the error that makes sluice exit.
		{"log level disabled", map[string]string{"SLUICE_LOG_LEVEL": "disabled"}, "SLUICE_LOG_LEVEL", "disabled"},
		{"log level numeric", map[string]string{"SLUICE_LOG_LEVEL": "5"}, "SLUICE_LOG_LEVEL", "5"},
		{"log format unknown", map[string]string{"SLUICE_LOG_FORMAT": "xml"}, "SLUICE_LOG_FORMAT", "xml"},
		{"metrics address without port", map[string]string{"SLUICE_METRICS_ADDR": "9400"}, "SLUICE_METRICS_ADDR", "9400"},
		{"metrics address with empty port", map[string]string{"SLUICE_METRICS_ADDR": "127.0.0.1:"}, "SLUICE_METRICS_ADDR", "127.0.0.1:"},
		{"partitions zero", map[string]string{"SLUICE_TOPIC_PARTITIONS": "0"}, "SLUICE_TOPIC_PARTITIONS", "0"},
		{"partitions below -1", map[string]string{"SLUICE_TOPIC_PARTITIONS": "-2"}, "SLUICE_TOPIC_PARTITIONS", "-2"},
		{"replication factor zero", map[string]string{"SLUICE_TOPIC_REPLICATION_FACTOR": "0"}, "SLUICE_TOPIC_REPLICATION_FACTOR", "0"},
		{"tombstones not a bool", map[string]string{"SLUICE_TOMBSTONES": "maybe"}, "SLUICE_TOMBSTONES", "maybe"},
		{"commit records zero", map[string]string{"SLUICE_COMMIT_RECORDS": "0"}, "SLUICE_COMMIT_RECORDS", "0"},
		{"transaction timeout short", map[string]string{"SLUICE_TRANSACTION_TIMEOUT": "500ms"}, "SLUICE_TRANSACTION_TIMEOUT", "500ms"},
		{"max record bytes small", map[string]string{"SLUICE_MAX_RECORD_BYTES": "1023"}, "SLUICE_MAX_RECORD_BYTES", "1023"},
		{"startup timeout zero", map[string]string{"SLUICE_STARTUP_TIMEOUT": "0s"}, "SLUICE_STARTUP_TIMEOUT", "0s"},
		{"shutdown timeout negative", map[string]string{"SLUICE_SHUTDOWN_TIMEOUT": "-1s"}, "SLUICE_SHUTDOWN_TIMEOUT", "-1s"},
		{"mysql host empty", map[string]string{"SLUICE_MYSQL_HOST": ""}, "SLUICE_MYSQL_HOST", ""},
		{"kafka brokers empty", map[string]string{"SLUICE_KAFKA_BROKERS": ""}, "SLUICE_KAFKA_BROKERS", ""},
		{"broker without port", map[string]string{"SLUICE_KAFKA_BROKERS": "localhost"}, "SLUICE_KAFKA_BROKERS", "localhost"},
		{"format unknown", map[string]string{"SLUICE_FORMAT": "protobuf"}, "SLUICE_FORMAT", "protobuf"},
		{"avro without registry", map[string]string{"SLUICE_FORMAT": "avro"}, "SLUICE_SCHEMA_REGISTRY_URL", ""},
		{"registry timeout zero", map[string]string{"SLUICE_SCHEMA_REGISTRY_TIMEOUT": "0s"}, "SLUICE_SCHEMA_REGISTRY_TIMEOUT", "0s"},
		{"purged position unknown", map[string]string{"SLUICE_PURGED_POSITION": "skip"}, "SLUICE_PURGED_POSITION", "skip"},
		{"offsets type unknown", map[string]string{"SLUICE_OFFSETS_TYPE": "etcd"}, "SLUICE_OFFSETS_TYPE", "etcd"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			t.Setenv("SLUICE_SERVER_ID", "1001")
			setEnv(t, tc.env)
			if value, ok := tc.env["SLUICE_SERVER_ID"]; ok && value == "" {
				unsetEnv(t, "SLUICE_SERVER_ID")
			}

			cfg, err := loadConfig()
			if err == nil {
				t.Fatalf("loadConfig = %+v with no error; want an error naming %s", cfg, tc.variable)
			}
			if !namesVariable(err.Error(), tc.variable) {
				t.Errorf("error %q does not name %s", err, tc.variable)
			}
			if tc.value != "" && !strings.Contains(err.Error(), tc.value) {
				t.Errorf("error %q does not show the value %s", err, tc.value)
			}
		})
	}
}

func TestLoadConfigReportsAllProblems(t *testing.T) {
	clearEnv(t)
	setEnv(t, map[string]string{
		"SLUICE_SERVER_ID":  "1001",
		"SLUICE_LOG_LEVEL":  "loud",
		"SLUICE_LOG_FORMAT": "xml",
	})

	_, err := loadConfig()
	if err == nil {
		t.Fatal("loadConfig with two invalid variables returned no error")
	}
	for _, variable := range []string{"SLUICE_LOG_LEVEL", "SLUICE_LOG_FORMAT"} {
		if !namesVariable(err.Error(), variable) {
			t.Errorf("error %q does not name %s", err, variable)
		}
	}
}

// TestLoadConfigIgnoresUnprefixed checks that only SLUICE_ variables
// configure sluice. Containers often set MYSQL_HOST, MYSQL_PASSWORD or
// LOG_LEVEL for other programs, and those must not change sluice's settings.
func TestLoadConfigIgnoresUnprefixed(t *testing.T) {
	cases := []struct {
		name  string
		env   map[string]string
		check func(t *testing.T, cfg *Config)
	}{
		{
			"mysql host",
			map[string]string{"MYSQL_HOST": "other-db"},
			func(t *testing.T, cfg *Config) {
				if cfg.MySQLHost != "127.0.0.1" {
					t.Errorf("MySQLHost = %q with only MYSQL_HOST set; want the default 127.0.0.1", cfg.MySQLHost)
				}
			},
		},
		{
			"mysql password",
			map[string]string{"MYSQL_PASSWORD": "secret"},
			func(t *testing.T, cfg *Config) {
				if cfg.MySQLPassword != "" {
					t.Errorf("MySQLPassword = %q with only MYSQL_PASSWORD set; want empty", cfg.MySQLPassword)
				}
			},
		},
		{
			"databases",
			map[string]string{"DATABASES": "other"},
			func(t *testing.T, cfg *Config) {
				if cfg.Databases != nil {
					t.Errorf("Databases = %q with only DATABASES set; want nil", cfg.Databases)
				}
			},
		},
		{
			"mysql port",
			map[string]string{"MYSQL_PORT": "1"},
			func(t *testing.T, cfg *Config) {
				if cfg.MySQLPort != 3306 {
					t.Errorf("MySQLPort = %d with only MYSQL_PORT set; want the default 3306", cfg.MySQLPort)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			t.Setenv("SLUICE_SERVER_ID", "1001")
			setEnv(t, tc.env)

			cfg, err := loadConfig()
			if err != nil {
				t.Fatalf("loadConfig error: %v", err)
			}
			tc.check(t, cfg)
		})
	}
}

func TestLoadConfigUnprefixedServerID(t *testing.T) {
	clearEnv(t)
	t.Setenv("SERVER_ID", "7")

	cfg, err := loadConfig()
	if err == nil {
		t.Fatalf("loadConfig = %+v with only SERVER_ID set; want an error naming SLUICE_SERVER_ID", cfg)
	}
	if !namesVariable(err.Error(), "SLUICE_SERVER_ID") {
		t.Errorf("error %q does not name SLUICE_SERVER_ID", err)
	}
}

// TestUnknownVariables checks which SLUICE_ variables are reported as not
// read, and the name each is taken to mean.
func TestUnknownVariables(t *testing.T) {
	environ := []string{
		"PATH=/usr/bin",
		"SLUICE_SERVER_ID=1001",
		"SLUICE_OFFSETS_AZBLOB_KEY=abc=",
		"SLUICE_OFSETS_TYPE=azblob",
		"SLUICE_KAFKA_BROKER=127.0.0.1:9092",
		"SLUICE_MYSQL_PASWORD=x",
		"SLUICE_TOPICPREFIX=shop",
		"SLUICE_COLOUR=blue",
		"SLUICE_FOO",
		"MYSQL_HOST=db",
		"SLUICE_metrics_addr=:9400",
		"sluice_tables=shop.orders",
		"SLUICE_LOCAL_DIR=/tmp/state",
		"SLUICE_CRASH_KILLS=5",
	}
	got := unknownVariables(environ)
	want := []unknownVariable{
		{name: "SLUICE_COLOUR"},
		{name: "SLUICE_FOO"},
		{name: "SLUICE_KAFKA_BROKER", suggestion: "SLUICE_KAFKA_BROKERS"},
		{name: "SLUICE_MYSQL_PASWORD", suggestion: "SLUICE_MYSQL_PASSWORD"},
		{name: "SLUICE_OFSETS_TYPE", suggestion: "SLUICE_OFFSETS_TYPE"},
		{name: "SLUICE_TOPICPREFIX", suggestion: "SLUICE_TOPIC_PREFIX"},
		{name: "SLUICE_metrics_addr", suggestion: "SLUICE_METRICS_ADDR"},
		{name: "sluice_tables", suggestion: "SLUICE_TABLES"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("unknownVariables() = %+v\nwant %+v", got, want)
	}
	if msg := want[4].String(); msg != "SLUICE_OFSETS_TYPE is not a sluice variable and is ignored; did you mean SLUICE_OFFSETS_TYPE?" {
		t.Errorf("message = %q", msg)
	}
}
