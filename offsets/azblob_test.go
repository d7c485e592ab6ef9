package offsets

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func TestOpenBlobRejectsInvalidSettings(t *testing.T) {
	settings := validBlobSettings()
	settings.LeaseSeconds = 0
	tracker, err := OpenBlob(context.Background(), &settings)
	if err == nil {
		tracker.Close()
		t.Fatal("OpenBlob succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "SLUICE_OFFSETS_AZBLOB_LEASE_SECONDS") {
		t.Errorf("OpenBlob error %q does not name SLUICE_OFFSETS_AZBLOB_LEASE_SECONDS", err)
	}
}

func TestBlobTrackerRegistered(t *testing.T) {
	if !IsRegistered("azblob") {
		t.Fatalf("azblob is not registered; registered: %v", Types())
	}
	var usage strings.Builder
	if err := Usage(&usage, "azblob"); err != nil {
		t.Fatalf("Usage: %v", err)
	}
	for _, variable := range []string{
		"SLUICE_OFFSETS_AZBLOB_CONNECTION_STRING",
		"SLUICE_OFFSETS_AZBLOB_ACCOUNT",
		"SLUICE_OFFSETS_AZBLOB_KEY",
		"SLUICE_OFFSETS_AZBLOB_ENDPOINT",
		"SLUICE_OFFSETS_AZBLOB_CONTAINER",
		"SLUICE_OFFSETS_AZBLOB_PREFIX",
		"SLUICE_OFFSETS_AZBLOB_LEASE_SECONDS",
	} {
		if !strings.Contains(usage.String(), variable) {
			t.Errorf("Usage does not list %s:\n%s", variable, usage.String())
		}
	}
	for _, fallback := range []string{"(default sluice-offsets)", "(default positions/)", "(default 30)"} {
		if !strings.Contains(usage.String(), fallback) {
			t.Errorf("Usage does not show %s:\n%s", fallback, usage.String())
		}
	}
	lines := strings.Split(usage.String(), "\n")
	index := slices.IndexFunc(lines, func(line string) bool {
		return strings.Contains(line, "SLUICE_OFFSETS_AZBLOB_LEASE_SECONDS")
	})
	if index < 0 || !strings.Contains(lines[index], "15 to 60 seconds") {
		t.Errorf("Usage line of SLUICE_OFFSETS_AZBLOB_LEASE_SECONDS does not give the range 15 to 60 seconds:\n%s", usage.String())
	}
}

func TestOpenAzblobReadsEnvironment(t *testing.T) {
	t.Setenv("SLUICE_OFFSETS_AZBLOB_CONNECTION_STRING", "")
	t.Setenv("SLUICE_OFFSETS_AZBLOB_ENDPOINT", "")
	t.Setenv("SLUICE_OFFSETS_AZBLOB_ACCOUNT", "devstoreaccount1")
	t.Setenv("SLUICE_OFFSETS_AZBLOB_KEY", "c2VjcmV0")
	t.Setenv("SLUICE_OFFSETS_AZBLOB_LEASE_SECONDS", "90")
	_, err := Open(context.Background(), "azblob")
	if err == nil {
		t.Fatal("Open succeeded, want an error for the lease duration")
	}
	if !strings.Contains(err.Error(), "SLUICE_OFFSETS_AZBLOB_LEASE_SECONDS 90") {
		t.Errorf("Open error %q does not name SLUICE_OFFSETS_AZBLOB_LEASE_SECONDS 90", err)
	}
}
