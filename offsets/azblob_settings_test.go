package offsets

import (
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
		{name: "container of 64 characters with hyphens", change: func(s *BlobSettings) { s.Container = "a" + strings.Repeat("-b", 31) + "c" },
			want: []string{"SLUICE_OFFSETS_AZBLOB_CONTAINER", "3 to 63"}},
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
