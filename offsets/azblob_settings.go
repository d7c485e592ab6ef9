package offsets

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// Limits that Azure Storage sets on names and leases.
const (
	minLeaseSeconds = 15
	maxLeaseSeconds = 60
	// Blob names have at most 1024 characters, and the rest is left for stream ids.
	maxPrefixLength = 512
)

var (
	accountName   = regexp.MustCompile(`^[a-z0-9]{3,24}$`)
	containerName = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9]|-[a-z0-9]){2,62}$`)
)

// Validate checks the settings and returns every problem found, each naming
// its variable and how to fix it. It never includes a key in the message.
func (s *BlobSettings) Validate() error {
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(format, args...))
	}

	switch {
	case s.ConnectionString != "" && (s.Account != "" || s.Key != ""):
		add("SLUICE_OFFSETS_AZBLOB_CONNECTION_STRING and SLUICE_OFFSETS_AZBLOB_ACCOUNT or _KEY are both set: " +
			"set either the connection string or the account and its key, and unset the other")
	case s.ConnectionString != "":
		if err := checkConnectionString(s.ConnectionString); err != nil {
			errs = append(errs, err)
		}
		if s.Endpoint != "" {
			add("SLUICE_OFFSETS_AZBLOB_ENDPOINT %q is set together with SLUICE_OFFSETS_AZBLOB_CONNECTION_STRING: "+
				"put the URL into the connection string as BlobEndpoint=%s and unset SLUICE_OFFSETS_AZBLOB_ENDPOINT", s.Endpoint, s.Endpoint)
		}
	case s.Account == "" && s.Key == "":
		add("no credentials for the azblob tracker: set SLUICE_OFFSETS_AZBLOB_CONNECTION_STRING, " +
			"or SLUICE_OFFSETS_AZBLOB_ACCOUNT and SLUICE_OFFSETS_AZBLOB_KEY")
	default:
		errs = append(errs, s.checkAccountKey()...)
	}

	if !containerName.MatchString(s.Container) || strings.Contains(s.Container, "--") || len(s.Container) > 63 {
		add("SLUICE_OFFSETS_AZBLOB_CONTAINER %q is not a valid container name: use 3 to 63 lowercase letters, "+
			"digits and single hyphens, starting and ending with a letter or digit", s.Container)
	}
	if err := checkPrefix(s.Prefix); err != nil {
		errs = append(errs, err)
	}
	if s.LeaseSeconds < minLeaseSeconds || s.LeaseSeconds > maxLeaseSeconds {
		add("SLUICE_OFFSETS_AZBLOB_LEASE_SECONDS %d is out of range: Azure Storage leases last %d to %d seconds, so use a value between them",
			s.LeaseSeconds, minLeaseSeconds, maxLeaseSeconds)
	}
	return errors.Join(errs...)
}

func (s *BlobSettings) checkAccountKey() []error {
	var errs []error
	switch {
	case s.Account == "":
		errs = append(errs, errors.New("SLUICE_OFFSETS_AZBLOB_ACCOUNT is empty but SLUICE_OFFSETS_AZBLOB_KEY is set: "+
			"set the storage account name that the key belongs to"))
	case !accountName.MatchString(s.Account):
		errs = append(errs, fmt.Errorf("SLUICE_OFFSETS_AZBLOB_ACCOUNT %q is not a storage account name: "+
			"use the account's name, 3 to 24 lowercase letters and digits", s.Account))
	}
	switch {
	case s.Key == "":
		errs = append(errs, fmt.Errorf("SLUICE_OFFSETS_AZBLOB_KEY is empty: set it to an access key of storage account %q, "+
			"or use SLUICE_OFFSETS_AZBLOB_CONNECTION_STRING", s.Account))
	default:
		if _, err := base64.StdEncoding.DecodeString(s.Key); err != nil {
			errs = append(errs, errors.New("SLUICE_OFFSETS_AZBLOB_KEY is not valid base64 (the value is not shown): "+
				"copy key1 or key2 from the storage account's access keys"))
		}
	}
	if s.Endpoint != "" {
		if err := checkEndpoint(s.Endpoint); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func checkEndpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("SLUICE_OFFSETS_AZBLOB_ENDPOINT %q is not a blob service URL: use one such as "+
			"https://<account>.blob.core.windows.net/, or leave it empty for that default", endpoint)
	}
	return nil
}

// checkConnectionString checks the parts that the SDK requires. Messages
// name the parts found but never show their values, which contain secrets.
func checkConnectionString(connectionString string) error {
	parts := connectionStringParts(connectionString)
	if parts == nil {
		return errors.New("SLUICE_OFFSETS_AZBLOB_CONNECTION_STRING is not a connection string (the value is not shown): " +
			"use Name=value parts separated by ';', as the storage account's access keys page shows it")
	}
	_, hasAccount := parts["AccountName"]
	_, hasKey := parts["AccountKey"]
	_, hasSAS := parts["SharedAccessSignature"]
	_, hasEndpoint := parts["BlobEndpoint"]
	names := make([]string, 0, len(parts))
	for name := range parts {
		names = append(names, name)
	}
	sort.Strings(names)
	switch {
	case !hasAccount && !hasEndpoint:
		return fmt.Errorf("SLUICE_OFFSETS_AZBLOB_CONNECTION_STRING has neither AccountName nor BlobEndpoint (it has %s): "+
			"copy the whole connection string from the storage account", strings.Join(names, ", "))
	case !(hasAccount && hasKey) && !hasSAS:
		return fmt.Errorf("SLUICE_OFFSETS_AZBLOB_CONNECTION_STRING has neither AccountName with AccountKey nor SharedAccessSignature "+
			"(it has %s): copy the whole connection string from the storage account", strings.Join(names, ", "))
	}
	return nil
}

// connectionStringParts splits a connection string into its Name=value
// parts, or returns nil when a part has no '='.
func connectionStringParts(connectionString string) map[string]string {
	parts := map[string]string{}
	for _, part := range strings.Split(strings.TrimRight(connectionString, ";"), ";") {
		name, value, found := strings.Cut(part, "=")
		if !found || name == "" {
			return nil
		}
		parts[name] = value
	}
	return parts
}

func checkPrefix(prefix string) error {
	invalid := func(reason string) error {
		return fmt.Errorf("SLUICE_OFFSETS_AZBLOB_PREFIX %q is not a usable blob name prefix: %s", prefix, reason)
	}
	if len(prefix) > maxPrefixLength {
		return invalid(fmt.Sprintf("use at most %d characters", maxPrefixLength))
	}
	if strings.HasPrefix(prefix, "/") || strings.Contains(prefix, "//") || strings.Contains(prefix, `\`) {
		return invalid("use '/' only between non-empty path segments, as in positions/ or prod/positions/")
	}
	for _, segment := range strings.Split(prefix, "/") {
		if segment == "." || segment == ".." {
			return invalid("'.' and '..' segments change meaning in URLs; remove them")
		}
	}
	for _, r := range prefix {
		if r < 0x20 || r == 0x7f {
			return invalid("remove the control characters")
		}
	}
	return nil
}
