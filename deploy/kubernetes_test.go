package deploy_test

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// kubernetesManifest is the example manifest, relative to this package.
var kubernetesManifest = filepath.Join("kubernetes", "sluice.yaml")

// loadManifest decodes the manifest's documents into the Kubernetes API
// types, rejecting any field that the types do not have, as kubectl's
// strict field validation does.
func loadManifest(t *testing.T) (*corev1.Service, *appsv1.StatefulSet) {
	t.Helper()
	data, err := os.ReadFile(kubernetesManifest)
	if err != nil {
		t.Fatal(err)
	}
	var service *corev1.Service
	var statefulSet *appsv1.StatefulSet
	for _, document := range strings.Split(string(data), "\n---\n") {
		text, err := yaml.YAMLToJSON([]byte(document))
		if err != nil {
			t.Fatalf("%s: invalid YAML: %v", kubernetesManifest, err)
		}
		var header struct{ Kind string }
		if err := json.Unmarshal(text, &header); err != nil {
			t.Fatal(err)
		}
		var target any
		switch header.Kind {
		case "Service":
			service = &corev1.Service{}
			target = service
		case "StatefulSet":
			statefulSet = &appsv1.StatefulSet{}
			target = statefulSet
		default:
			t.Fatalf("%s: unexpected kind %q", kubernetesManifest, header.Kind)
		}
		decoder := json.NewDecoder(bytes.NewReader(text))
		decoder.DisallowUnknownFields()
		if err := decoder.Decode(target); err != nil {
			t.Fatalf("%s: %s does not fit the Kubernetes API: %v", kubernetesManifest, header.Kind, err)
		}
	}
	if service == nil || statefulSet == nil {
		t.Fatalf("%s: want a Service and a StatefulSet", kubernetesManifest)
	}
	return service, statefulSet
}

// readmeVariables returns the variables of the README's configuration
// tables, which a test of cmd/sluice checks against what sluice reads.
func readmeVariables(t *testing.T) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	variables := map[string]bool{}
	for _, match := range regexp.MustCompile("(?m)^\\| `(SLUICE_[A-Z0-9_]+)` \\|").FindAllStringSubmatch(string(data), -1) {
		variables[match[1]] = true
	}
	if len(variables) < 20 {
		t.Fatalf("found only %d variables in the README's tables", len(variables))
	}
	return variables
}

func TestKubernetesManifestStatefulSet(t *testing.T) {
	service, set := loadManifest(t)
	pod := set.Spec.Template.Spec

	if set.Spec.Replicas == nil || *set.Spec.Replicas != 1 {
		t.Errorf("replicas = %v, want 1: one worker per stream", set.Spec.Replicas)
	}
	if set.Spec.ServiceName != service.Name {
		t.Errorf("serviceName = %q, want the Service %q", set.Spec.ServiceName, service.Name)
	}
	for key, value := range service.Spec.Selector {
		if set.Spec.Template.Labels[key] != value {
			t.Errorf("the Service selects %s=%s, which the pod template lacks", key, value)
		}
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	container := pod.Containers[0]

	// The image runs as the distroless nonroot user.
	if user := pod.SecurityContext.RunAsUser; user == nil || *user != 65532 {
		t.Errorf("runAsUser = %v, want 65532 as in deploy/Dockerfile", user)
	}
	if profile := pod.SecurityContext.SeccompProfile; profile == nil || profile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("seccompProfile = %v, want RuntimeDefault, which the restricted Pod Security Standard requires", profile)
	}
	// SIGTERM leaves sluice SLUICE_SHUTDOWN_TIMEOUT (10s) to finish a
	// transaction, and then it commits.
	if grace := pod.TerminationGracePeriodSeconds; grace == nil || *grace < 20 {
		t.Errorf("terminationGracePeriodSeconds = %v, want at least 20", grace)
	}

	known := readmeVariables(t)
	env := map[string]corev1.EnvVar{}
	for _, variable := range container.Env {
		if !known[variable.Name] {
			t.Errorf("env %s is not a sluice variable", variable.Name)
		}
		env[variable.Name] = variable
	}
	for _, name := range []string{"SLUICE_MYSQL_HOST", "SLUICE_SERVER_ID", "SLUICE_KAFKA_BROKERS", "SLUICE_OFFSETS_DIR", "SLUICE_METRICS_ADDR"} {
		if _, ok := env[name]; !ok {
			t.Errorf("env lacks %s", name)
		}
	}
	if password := env["SLUICE_MYSQL_PASSWORD"]; password.ValueFrom == nil || password.ValueFrom.SecretKeyRef == nil {
		t.Errorf("SLUICE_MYSQL_PASSWORD does not come from a Secret")
	}

	// The offsets directory is on the pod's own volume.
	offsetsDir := env["SLUICE_OFFSETS_DIR"].Value
	mounted := false
	for _, mount := range container.VolumeMounts {
		if mount.MountPath == offsetsDir {
			mounted = true
			if len(set.Spec.VolumeClaimTemplates) != 1 || set.Spec.VolumeClaimTemplates[0].Name != mount.Name {
				t.Errorf("the volume at %s is not the StatefulSet's volume claim", offsetsDir)
			}
		}
	}
	if !mounted {
		t.Errorf("no volume is mounted at SLUICE_OFFSETS_DIR %q", offsetsDir)
	}

	// The readiness probe and the Service reach the metrics port that
	// SLUICE_METRICS_ADDR names.
	_, port, err := net.SplitHostPort(env["SLUICE_METRICS_ADDR"].Value)
	if err != nil {
		t.Fatalf("SLUICE_METRICS_ADDR: %v", err)
	}
	if len(container.Ports) != 1 || container.Ports[0].Name != "metrics" || strconv.Itoa(int(container.Ports[0].ContainerPort)) != port {
		t.Errorf("container ports %+v, want one named metrics on %s", container.Ports, port)
	}
	probe := container.ReadinessProbe
	if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != "/healthz" || probe.HTTPGet.Port.String() != "metrics" {
		t.Errorf("readinessProbe = %+v, want GET /healthz on the metrics port", probe)
	}
	if len(service.Spec.Ports) != 1 || service.Spec.Ports[0].TargetPort.String() != "metrics" {
		t.Errorf("Service ports %+v, want the metrics port", service.Spec.Ports)
	}
}
