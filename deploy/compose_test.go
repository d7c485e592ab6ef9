package deploy_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// repoRoot is the repository root relative to this package's directory,
// which is where go test runs the test binary.
const repoRoot = ".."

// loadProject loads ../compose.yaml with compose-go, the loader behind docker
// compose. It validates the file against the Compose schema, resolves relative
// paths against the repository root and checks that every referenced service
// and volume exists. It reads no environment variables or .env file, so the
// result does not depend on the shell that runs the test.
func loadProject(t *testing.T) *types.Project {
	t.Helper()

	options, err := cli.NewProjectOptions(
		[]string{filepath.Join(repoRoot, "compose.yaml")},
		cli.WithWorkingDirectory(repoRoot),
	)
	if err != nil {
		t.Fatalf("creating compose project options: %v", err)
	}

	project, err := options.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("loading compose.yaml: %v", err)
	}
	return project
}

// service returns the named service or stops the test if it is missing.
func service(t *testing.T, project *types.Project, name string) types.ServiceConfig {
	t.Helper()

	svc, err := project.GetService(name)
	if err != nil {
		t.Fatalf("compose.yaml: expected service %q: %v", name, err)
	}
	return svc
}

func TestComposeServicesAndImages(t *testing.T) {
	project := loadProject(t)

	for _, name := range []string{"mysql", "kafka", "sluice"} {
		if _, ok := project.Services[name]; !ok {
			t.Errorf("expected service %q, found services %v", name, project.ServiceNames())
		}
	}

	mysql := service(t, project, "mysql")
	if mysql.Image != "mysql:8.4" {
		t.Errorf("mysql image = %q, expected %q", mysql.Image, "mysql:8.4")
	}

	kafka := service(t, project, "kafka")
	if !strings.HasPrefix(kafka.Image, "apache/kafka:4.") {
		t.Errorf("kafka image = %q, expected an apache/kafka:4.* tag", kafka.Image)
	}
}

func TestComposeSluiceBuild(t *testing.T) {
	project := loadProject(t)
	sluice := service(t, project, "sluice")

	if sluice.Build == nil {
		t.Fatal("sluice: expected a build section, found none")
	}

	wantContext, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatalf("resolving repository root: %v", err)
	}
	if sluice.Build.Context != wantContext {
		t.Errorf("sluice build context = %q, expected the repository root %q", sluice.Build.Context, wantContext)
	}
	if sluice.Build.Dockerfile != "deploy/Dockerfile" {
		t.Errorf("sluice build dockerfile = %q, expected %q", sluice.Build.Dockerfile, "deploy/Dockerfile")
	}

	dockerfile := filepath.Join(sluice.Build.Context, sluice.Build.Dockerfile)
	info, err := os.Stat(dockerfile)
	if err != nil {
		t.Errorf("sluice Dockerfile %s: expected a file: %v", dockerfile, err)
	} else if !info.Mode().IsRegular() {
		t.Errorf("sluice Dockerfile %s: expected a regular file, found mode %v", dockerfile, info.Mode())
	}
}

func TestComposeMySQLBinlogFlags(t *testing.T) {
	project := loadProject(t)
	mysql := service(t, project, "mysql")

	flags := []string{
		"--server-id=1",
		"--log-bin=mysql-bin",
		"--binlog-format=ROW",
		"--binlog-row-image=FULL",
		"--binlog-row-metadata=FULL",
		"--gtid-mode=ON",
		"--enforce-gtid-consistency=ON",
	}
	for _, flag := range flags {
		if !slices.Contains(mysql.Command, flag) {
			t.Errorf("mysql command %q: expected flag %s", mysql.Command, flag)
		}
	}
}

func TestComposeMySQLInitScript(t *testing.T) {
	project := loadProject(t)
	mysql := service(t, project, "mysql")

	composeDir, err := filepath.Abs(filepath.Join(repoRoot, "deploy", "compose"))
	if err != nil {
		t.Fatalf("resolving deploy/compose: %v", err)
	}

	const initDir = "/docker-entrypoint-initdb.d/"
	var found bool
	for _, volume := range mysql.Volumes {
		if !strings.HasPrefix(volume.Target, initDir) {
			continue
		}
		found = true

		if volume.Type != types.VolumeTypeBind {
			t.Errorf("mysql volume %s: type = %q, expected %q", volume.Target, volume.Type, types.VolumeTypeBind)
		}
		if !strings.HasSuffix(volume.Target, ".sql") {
			t.Errorf("mysql volume target %s: expected a .sql file, which the entrypoint runs", volume.Target)
		}

		info, err := os.Stat(volume.Source)
		if err != nil {
			t.Errorf("mysql init script %s: expected a file: %v", volume.Source, err)
			continue
		}
		if !info.Mode().IsRegular() {
			t.Errorf("mysql init script %s: expected a regular file, found mode %v", volume.Source, info.Mode())
		}
		if filepath.Dir(volume.Source) != composeDir {
			t.Errorf("mysql init script %s: expected it in %s", volume.Source, composeDir)
		}
	}
	if !found {
		t.Errorf("mysql: expected a volume mounted under %s, found %d volumes without one", initDir, len(mysql.Volumes))
	}
}

func TestComposeMySQLInitScriptGrants(t *testing.T) {
	script, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "compose", "mysql-init.sql"))
	if err != nil {
		t.Fatalf("reading mysql init script: %v", err)
	}
	sql := strings.Join(strings.Fields(string(script)), " ")

	statements := []string{
		"CREATE USER IF NOT EXISTS 'sluice'@'%' IDENTIFIED BY 'sluice'",
		"GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'sluice'@'%'",
		"CREATE DATABASE IF NOT EXISTS shop",
	}
	for _, statement := range statements {
		if !strings.Contains(sql, statement) {
			t.Errorf("mysql init script: expected statement %q", statement)
		}
	}

	if count := strings.Count(sql, "PRIMARY KEY"); count < 2 {
		t.Errorf("mysql init script: found %d primary keys, expected at least 2 tables with one", count)
	}
}

func TestComposeKafkaSingleNodeSettings(t *testing.T) {
	project := loadProject(t)
	kafka := service(t, project, "kafka")

	settings := map[string]string{
		"KAFKA_PROCESS_ROLES":                            "broker,controller",
		"KAFKA_NODE_ID":                                  "1",
		"KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR":         "1",
		"KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
		"KAFKA_TRANSACTION_STATE_LOG_MIN_ISR":            "1",
	}
	for name, want := range settings {
		checkEnvironment(t, "kafka", kafka.Environment, name, want)
	}

	advertised := environmentValue(kafka.Environment, "KAFKA_ADVERTISED_LISTENERS")
	for _, listener := range []string{"://kafka:9092", "://127.0.0.1:9094"} {
		if !strings.Contains(advertised, listener) {
			t.Errorf("kafka KAFKA_ADVERTISED_LISTENERS = %q, expected a listener %s", advertised, listener)
		}
	}

	voters := environmentValue(kafka.Environment, "KAFKA_CONTROLLER_QUORUM_VOTERS")
	if !strings.HasPrefix(voters, "1@") {
		t.Errorf("kafka KAFKA_CONTROLLER_QUORUM_VOTERS = %q, expected node 1 as the only voter", voters)
	}
}

func TestComposeSluiceEnvironment(t *testing.T) {
	project := loadProject(t)
	sluice := service(t, project, "sluice")

	tests := []struct {
		name string
		want string
	}{
		{"SLUICE_MYSQL_HOST", "mysql"},
		{"SLUICE_MYSQL_PORT", "3306"},
		{"SLUICE_MYSQL_USER", "sluice"},
		{"SLUICE_MYSQL_PASSWORD", "sluice"},
		{"SLUICE_SERVER_ID", "1001"},
		{"SLUICE_KAFKA_BROKERS", "kafka:9092"},
		{"SLUICE_TOPIC_PREFIX", "sluice"},
		{"SLUICE_OFFSETS_DIR", "/var/lib/sluice"},
		{"SLUICE_LOG_FORMAT", "json"},
		{"SLUICE_METRICS_ADDR", ":9400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkEnvironment(t, "sluice", sluice.Environment, tt.name, tt.want)
		})
	}
}

func TestComposeSluiceRuntime(t *testing.T) {
	project := loadProject(t)
	sluice := service(t, project, "sluice")

	if sluice.Restart != types.RestartPolicyUnlessStopped {
		t.Errorf("sluice restart = %q, expected %q", sluice.Restart, types.RestartPolicyUnlessStopped)
	}

	wantGrace := 30 * time.Second
	if sluice.StopGracePeriod == nil {
		t.Errorf("sluice stop_grace_period: expected %v, found none", wantGrace)
	} else if got := time.Duration(*sluice.StopGracePeriod); got != wantGrace {
		t.Errorf("sluice stop_grace_period = %v, expected %v", got, wantGrace)
	}

	offsetsDir := "/var/lib/sluice"
	index := slices.IndexFunc(sluice.Volumes, func(v types.ServiceVolumeConfig) bool {
		return v.Target == offsetsDir
	})
	if index < 0 {
		t.Fatalf("sluice: expected a volume at %s, found %d other volumes", offsetsDir, len(sluice.Volumes))
	}
	volume := sluice.Volumes[index]
	if volume.Type != types.VolumeTypeVolume {
		t.Errorf("sluice volume %s: type = %q, expected a named volume", offsetsDir, volume.Type)
	}
	if _, ok := project.Volumes[volume.Source]; !ok {
		t.Errorf("sluice volume %s: source %q, expected it declared under top-level volumes", offsetsDir, volume.Source)
	}
}

func TestComposeHealthchecksAndDependencies(t *testing.T) {
	project := loadProject(t)
	sluice := service(t, project, "sluice")

	tests := []struct {
		dependency string
		probe      string
	}{
		{"mysql", "mysqladmin"},
		{"kafka", "kafka-broker-api-versions.sh"},
	}
	for _, tt := range tests {
		t.Run(tt.dependency, func(t *testing.T) {
			svc := service(t, project, tt.dependency)

			if svc.HealthCheck == nil {
				t.Errorf("%s: expected a healthcheck, found none", tt.dependency)
			} else {
				if svc.HealthCheck.Disable {
					t.Errorf("%s: expected an enabled healthcheck, found it disabled", tt.dependency)
				}
				if !strings.Contains(strings.Join(svc.HealthCheck.Test, " "), tt.probe) {
					t.Errorf("%s healthcheck test %q: expected it to run %s", tt.dependency, svc.HealthCheck.Test, tt.probe)
				}
			}

			dependency, ok := sluice.DependsOn[tt.dependency]
			if !ok {
				t.Errorf("sluice depends_on: expected %q, found %v", tt.dependency, sluice.GetDependencies())
			} else if dependency.Condition != types.ServiceConditionHealthy {
				t.Errorf("sluice depends_on %s: condition = %q, expected %q",
					tt.dependency, dependency.Condition, types.ServiceConditionHealthy)
			}
		})
	}
}

func TestComposePortsBindLoopback(t *testing.T) {
	project := loadProject(t)

	wantPorts := map[string]uint32{"mysql": 3306, "kafka": 9094}
	for name, target := range wantPorts {
		svc := service(t, project, name)
		found := slices.ContainsFunc(svc.Ports, func(p types.ServicePortConfig) bool {
			return p.Target == target
		})
		if !found {
			t.Errorf("%s: expected container port %d published, found %+v", name, target, svc.Ports)
		}
	}

	for _, svc := range project.Services {
		for _, port := range svc.Ports {
			if port.HostIP != "127.0.0.1" {
				t.Errorf("%s port %d: host IP = %q, expected 127.0.0.1", svc.Name, port.Target, port.HostIP)
			}
		}
	}
}

// environmentValue returns the value of name, or "" when it is unset or has
// no value.
func environmentValue(environment types.MappingWithEquals, name string) string {
	value, ok := environment[name]
	if !ok || value == nil {
		return ""
	}
	return *value
}

// checkEnvironment reports an error unless the service sets name to want.
func checkEnvironment(t *testing.T, serviceName string, environment types.MappingWithEquals, name, want string) {
	t.Helper()

	value, ok := environment[name]
	switch {
	case !ok:
		t.Errorf("%s environment: expected %s=%s, found it unset", serviceName, name, want)
	case value == nil:
		t.Errorf("%s environment: expected %s=%s, found it without a value", serviceName, name, want)
	case *value != want:
		t.Errorf("%s environment: %s=%s, expected %s", serviceName, name, *value, want)
	}
}
