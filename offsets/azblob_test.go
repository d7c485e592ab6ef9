package offsets

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

// validBlobSettings returns settings that pass Validate, with the
// development account of the Azurite emulator.
func validBlobSettings() BlobSettings {
	return BlobSettings{
		Account:      "devstoreaccount1",
		Key:          "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
		Container:    "sluice-offsets",
		Prefix:       "positions/",
		LeaseSeconds: 30,
	}
}

const testConnectionString = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
	"AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
	"BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"

func TestBlobSettingsValidate(t *testing.T) {
	cases := []struct {
		name   string
		change func(s *BlobSettings)
		// want lists parts of the error message; none means valid.
		want []string
	}{
		{name: "account and key", change: func(s *BlobSettings) {}},
		{name: "account key and endpoint", change: func(s *BlobSettings) { s.Endpoint = "http://127.0.0.1:10000/devstoreaccount1" }},
		{name: "connection string", change: func(s *BlobSettings) {
			s.Account, s.Key, s.ConnectionString = "", "", testConnectionString
		}},
		{name: "connection string with SAS", change: func(s *BlobSettings) {
			s.Account, s.Key = "", ""
			s.ConnectionString = "BlobEndpoint=https://acme.blob.core.windows.net/;SharedAccessSignature=sv=2022-11-02&sp=racwdl&sig=abc"
		}},
		{name: "empty prefix", change: func(s *BlobSettings) { s.Prefix = "" }},
		{name: "nested prefix", change: func(s *BlobSettings) { s.Prefix = "prod/eu/positions-" }},
		{name: "lease lower bound", change: func(s *BlobSettings) { s.LeaseSeconds = 15 }},
		{name: "lease upper bound", change: func(s *BlobSettings) { s.LeaseSeconds = 60 }},

		{name: "no credentials", change: func(s *BlobSettings) { s.Account, s.Key = "", "" },
			want: []string{"no credentials", "SLUICE_OFFSETS_AZBLOB_CONNECTION_STRING", "SLUICE_OFFSETS_AZBLOB_ACCOUNT and SLUICE_OFFSETS_AZBLOB_KEY"}},
		{name: "both credentials", change: func(s *BlobSettings) { s.ConnectionString = testConnectionString },
			want: []string{"both set", "either the connection string or the account"}},
		{name: "key without account", change: func(s *BlobSettings) { s.Account = "" },
			want: []string{"SLUICE_OFFSETS_AZBLOB_ACCOUNT is empty"}},
		{name: "account without key", change: func(s *BlobSettings) { s.Key = "" },
			want: []string{"SLUICE_OFFSETS_AZBLOB_KEY is empty", `"devstoreaccount1"`}},
		{name: "invalid account", change: func(s *BlobSettings) { s.Account = "Dev_Store" },
			want: []string{`SLUICE_OFFSETS_AZBLOB_ACCOUNT "Dev_Store"`, "3 to 24 lowercase letters and digits"}},
		{name: "key not base64", change: func(s *BlobSettings) { s.Key = "not a key!" },
			want: []string{"SLUICE_OFFSETS_AZBLOB_KEY is not valid base64", "not shown"}},
		{name: "endpoint without scheme", change: func(s *BlobSettings) { s.Endpoint = "acme.blob.core.windows.net" },
			want: []string{`SLUICE_OFFSETS_AZBLOB_ENDPOINT "acme.blob.core.windows.net"`, "https://<account>.blob.core.windows.net/"}},
		{name: "endpoint with query", change: func(s *BlobSettings) { s.Endpoint = "https://acme.blob.core.windows.net/?sig=x" },
			want: []string{"SLUICE_OFFSETS_AZBLOB_ENDPOINT", "not a blob service URL"}},
		{name: "endpoint with connection string", change: func(s *BlobSettings) {
			s.Account, s.Key, s.ConnectionString = "", "", testConnectionString
			s.Endpoint = "http://127.0.0.1:10000/devstoreaccount1"
		}, want: []string{"SLUICE_OFFSETS_AZBLOB_ENDPOINT", "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1"}},
		{name: "connection string without parts", change: func(s *BlobSettings) {
			s.Account, s.Key, s.ConnectionString = "", "", "just-a-secret"
		}, want: []string{"SLUICE_OFFSETS_AZBLOB_CONNECTION_STRING is not a connection string", "not shown"}},
		{name: "connection string without key", change: func(s *BlobSettings) {
			s.Account, s.Key, s.ConnectionString = "", "", "AccountName=acme;EndpointSuffix=core.windows.net"
		}, want: []string{"neither AccountName with AccountKey nor SharedAccessSignature", "AccountName, EndpointSuffix"}},
		{name: "connection string without account", change: func(s *BlobSettings) {
			s.Account, s.Key, s.ConnectionString = "", "", "AccountKey=c2VjcmV0"
		}, want: []string{"neither AccountName nor BlobEndpoint", "it has AccountKey"}},
		{name: "container with capitals", change: func(s *BlobSettings) { s.Container = "Sluice" },
			want: []string{`SLUICE_OFFSETS_AZBLOB_CONTAINER "Sluice"`, "lowercase"}},
		{name: "container too short", change: func(s *BlobSettings) { s.Container = "ab" },
			want: []string{`SLUICE_OFFSETS_AZBLOB_CONTAINER "ab"`}},
		{name: "container with double hyphen", change: func(s *BlobSettings) { s.Container = "sluice--offsets" },
			want: []string{`SLUICE_OFFSETS_AZBLOB_CONTAINER "sluice--offsets"`, "single hyphens"}},
		{name: "container ending in hyphen", change: func(s *BlobSettings) { s.Container = "sluice-" },
			want: []string{`SLUICE_OFFSETS_AZBLOB_CONTAINER "sluice-"`}},
		{name: "prefix with leading slash", change: func(s *BlobSettings) { s.Prefix = "/positions/" },
			want: []string{`SLUICE_OFFSETS_AZBLOB_PREFIX "/positions/"`, "non-empty path segments"}},
		{name: "prefix with empty segment", change: func(s *BlobSettings) { s.Prefix = "a//b/" },
			want: []string{`SLUICE_OFFSETS_AZBLOB_PREFIX "a//b/"`}},
		{name: "prefix with dot segment", change: func(s *BlobSettings) { s.Prefix = "a/../b/" },
			want: []string{`SLUICE_OFFSETS_AZBLOB_PREFIX "a/../b/"`, "'..'"}},
		{name: "prefix with control character", change: func(s *BlobSettings) { s.Prefix = "a\nb/" },
			want: []string{"SLUICE_OFFSETS_AZBLOB_PREFIX", "control characters"}},
		{name: "prefix too long", change: func(s *BlobSettings) { s.Prefix = strings.Repeat("p", 513) },
			want: []string{"SLUICE_OFFSETS_AZBLOB_PREFIX", "at most 512 characters"}},
		{name: "lease too short", change: func(s *BlobSettings) { s.LeaseSeconds = 14 },
			want: []string{"SLUICE_OFFSETS_AZBLOB_LEASE_SECONDS 14 is out of range", "15 to 60"}},
		{name: "lease too long", change: func(s *BlobSettings) { s.LeaseSeconds = 61 },
			want: []string{"SLUICE_OFFSETS_AZBLOB_LEASE_SECONDS 61 is out of range"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			settings := validBlobSettings()
			tc.change(&settings)
			err := settings.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v, want no error", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate succeeded, want an error with %q", tc.want)
			}
			for _, part := range tc.want {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("Validate error %q does not contain %q", err, part)
				}
			}
		})
	}
}

func TestBlobSettingsHideSecrets(t *testing.T) {
	settings := validBlobSettings()
	settings.Key = "secret-key-!"
	settings.Container = "X"
	err := settings.Validate()
	if err == nil {
		t.Fatal("Validate succeeded, want an error")
	}
	if strings.Contains(err.Error(), settings.Key) {
		t.Errorf("Validate error %q shows the key", err)
	}

	settings = validBlobSettings()
	settings.Account, settings.Key = "", ""
	settings.ConnectionString = "AccountName=acme;AccountKey=c2VjcmV0LWtleQ==;BlobEndpoint=x;SharedAccessSignature=sig"
	settings.Endpoint = "https://acme.blob.core.windows.net/"
	err = settings.Validate()
	if err == nil {
		t.Fatal("Validate succeeded, want an error")
	}
	if strings.Contains(err.Error(), "c2VjcmV0LWtleQ==") {
		t.Errorf("Validate error %q shows the account key of the connection string", err)
	}
}

func TestBlobSettingsReportEveryProblem(t *testing.T) {
	settings := validBlobSettings()
	settings.Container = "Bad"
	settings.LeaseSeconds = 5
	err := settings.Validate()
	if err == nil {
		t.Fatal("Validate succeeded, want an error")
	}
	for _, variable := range []string{"SLUICE_OFFSETS_AZBLOB_CONTAINER", "SLUICE_OFFSETS_AZBLOB_LEASE_SECONDS"} {
		if !strings.Contains(err.Error(), variable) {
			t.Errorf("Validate error %q does not name %s", err, variable)
		}
	}
}

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

func TestPositionBlobName(t *testing.T) {
	cases := []struct {
		prefix, stream, want string
	}{
		{"positions/", "orders", "positions/orders.json"},
		{"", "orders", "orders.json"},
		{"prod/eu-", "shop.orders_v2", "prod/eu-shop.orders_v2.json"},
		{"positions/", ".hidden", "positions/.hidden.json"},
	}
	for _, tc := range cases {
		got, err := positionBlobName(tc.prefix, tc.stream)
		if err != nil {
			t.Errorf("positionBlobName(%q, %q): %v", tc.prefix, tc.stream, err)
			continue
		}
		if got != tc.want {
			t.Errorf("positionBlobName(%q, %q) = %q, want %q", tc.prefix, tc.stream, got, tc.want)
		}
		stream, ok := streamOfBlob(tc.prefix, got)
		if !ok || stream != tc.stream {
			t.Errorf("streamOfBlob(%q, %q) = %q, %v, want %q, true", tc.prefix, got, stream, ok, tc.stream)
		}
	}
}

func TestPositionBlobNameRejectsInvalidStream(t *testing.T) {
	for _, stream := range []string{"", ".", "..", "a/b", "../escape", "white space", "a?b", "ä"} {
		if name, err := positionBlobName("positions/", stream); err == nil {
			t.Errorf("positionBlobName(%q) = %q, want an error", stream, name)
		}
	}
}

func TestStreamOfBlobSkipsOtherBlobs(t *testing.T) {
	for _, name := range []string{
		"positions/orders.txt",
		"positions/.sluice-check-0123456789abcdef",
		"positions/nested/orders.json",
		"positions/.json",
		"positions/...json",
		"other/orders.json",
		"positions/orders.json.bak",
	} {
		if stream, ok := streamOfBlob("positions/", name); ok {
			t.Errorf("streamOfBlob(%q) = %q, want no stream", name, stream)
		}
	}
}

func TestParsePositionBlob(t *testing.T) {
	saved := samplePosition()
	saved.Stream = "orders"
	data, err := saved.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := parsePositionBlob(data, "orders")
	if err != nil {
		t.Fatalf("parsePositionBlob: %v", err)
	}
	if got.File != saved.File || got.Pos != saved.Pos || got.Stream != "orders" {
		t.Errorf("parsePositionBlob = %+v, want %+v", got, saved)
	}
}

func TestParsePositionBlobPlaceholder(t *testing.T) {
	data, err := placeholderBlob("orders")
	if err != nil {
		t.Fatal(err)
	}
	got, err := parsePositionBlob(data, "orders")
	if err != nil {
		t.Fatalf("parsePositionBlob of a placeholder: %v", err)
	}
	if !got.IsZero() {
		t.Errorf("parsePositionBlob of a placeholder = %s, want an empty position", got)
	}
}

func TestParsePositionBlobRejects(t *testing.T) {
	otherStream := samplePosition()
	otherStream.Stream = "payments"
	otherData, err := otherStream.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	otherPlaceholder, err := placeholderBlob("payments")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"position of another stream", otherData, `belongs to stream "payments"`},
		{"placeholder of another stream", otherPlaceholder, `belongs to stream "payments"`},
		{"empty object", []byte(`{}`), "binlog file or offset missing"},
		{"empty blob", []byte(``), "invalid stored position"},
		{"not JSON", []byte(`mysql-bin.000001:4`), "invalid stored position"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parsePositionBlob(tc.data, "orders")
			if err == nil {
				t.Fatal("parsePositionBlob succeeded, want an error")
			}
			if !errors.Is(err, ErrInvalidPosition) {
				t.Errorf("error %v does not wrap ErrInvalidPosition", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestIsPlaceholderIgnoresCase(t *testing.T) {
	value := "true"
	for _, name := range []string{"sluiceplaceholder", "Sluiceplaceholder", "SLUICEPLACEHOLDER"} {
		if !isPlaceholder(map[string]*string{name: &value}) {
			t.Errorf("isPlaceholder with metadata %q = false, want true", name)
		}
	}
	if isPlaceholder(map[string]*string{"other": &value}) {
		t.Error("isPlaceholder with other metadata = true, want false")
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
