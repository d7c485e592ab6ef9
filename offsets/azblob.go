package offsets

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"
	"github.com/rs/zerolog"
)

// The azblob tracker keeps each stream's position in Azure Blob Storage, as
// the JSON blob <prefix><stream>.json in one container. Every write is
// conditional on the blob's ETag, so a writer that did not read the newest
// position cannot overwrite it. A worker holds its stream through a blob
// lease that it renews in the background.
//
// Blob versioning and soft delete are settings of the storage account. The
// tracker works with them on: each save then keeps the previous position as
// an older version, and reads, conditional writes and leases address the
// current one.
// NOTE: Azurite has no blob versioning, so the tests do not cover it.

func init() {
	Register("azblob", func(ctx context.Context, settings *BlobSettings) (Tracker, error) {
		tracker, err := OpenBlob(ctx, settings)
		if err != nil {
			return nil, err
		}
		return tracker, nil
	})
}

// BlobSettings are the settings of the azblob tracker. Credentials are
// either a connection string or an account name with its key.
type BlobSettings struct {
	ConnectionString string `envconfig:"SLUICE_OFFSETS_AZBLOB_CONNECTION_STRING" desc:"storage account connection string with AccountName and AccountKey, or with SharedAccessSignature; set this or ACCOUNT and KEY"`
	Account          string `envconfig:"SLUICE_OFFSETS_AZBLOB_ACCOUNT" desc:"storage account name, used with SLUICE_OFFSETS_AZBLOB_KEY"`
	Key              string `envconfig:"SLUICE_OFFSETS_AZBLOB_KEY" desc:"access key (base64) of SLUICE_OFFSETS_AZBLOB_ACCOUNT"`
	Endpoint         string `envconfig:"SLUICE_OFFSETS_AZBLOB_ENDPOINT" desc:"blob service URL for ACCOUNT and KEY; empty means https://<account>.blob.core.windows.net/"`
	Container        string `envconfig:"SLUICE_OFFSETS_AZBLOB_CONTAINER" default:"sluice-offsets" desc:"container of the position blobs, created when missing"`
	Prefix           string `envconfig:"SLUICE_OFFSETS_AZBLOB_PREFIX" default:"positions/" desc:"start of each position blob's name, <prefix><stream>.json"`
	LeaseSeconds     int    `envconfig:"SLUICE_OFFSETS_AZBLOB_LEASE_SECONDS" default:"30" desc:"duration of the blob lease that holds a stream, 15 to 60 seconds; renewed every third of it"`
}

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

	if !containerName.MatchString(s.Container) || strings.Contains(s.Container, "--") {
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

// BlobTracker is the azblob tracker, a Holder. Create it with OpenBlob.
type BlobTracker struct {
	container     *container.Client
	account       string // for messages, or empty for a connection string with only a SAS
	accountKey    bool   // whether requests are signed with an account key
	containerName string
	prefix        string
	lease         time.Duration

	mu sync.Mutex
	// etags has the ETag of each stream's blob as this tracker last read or
	// wrote it. A stream without an entry is saved only if its blob does
	// not exist.
	etags  map[string]azcore.ETag
	holds  map[string]*blobHold
	closed bool
}

// OpenBlob validates settings, connects to the storage account and creates
// the container when it is missing.
func OpenBlob(ctx context.Context, settings *BlobSettings) (*BlobTracker, error) {
	if err := settings.Validate(); err != nil {
		return nil, err
	}
	client, account, err := newContainerClient(settings)
	if err != nil {
		return nil, err
	}
	_, keyInConnectionString := connectionStringParts(settings.ConnectionString)["AccountKey"]
	t := &BlobTracker{
		container:     client,
		account:       account,
		accountKey:    settings.Key != "" || keyInConnectionString,
		containerName: settings.Container,
		prefix:        settings.Prefix,
		lease:         time.Duration(settings.LeaseSeconds) * time.Second,
		etags:         map[string]azcore.ETag{},
		holds:         map[string]*blobHold{},
	}
	if err := t.ensureContainer(ctx); err != nil {
		return nil, err
	}
	return t, nil
}

func newContainerClient(s *BlobSettings) (*container.Client, string, error) {
	options := &container.ClientOptions{ClientOptions: azcore.ClientOptions{
		// A request that hangs is retried rather than waited for without end.
		Retry: policy.RetryOptions{TryTimeout: 30 * time.Second},
	}}
	if s.ConnectionString != "" {
		client, err := container.NewClientFromConnectionString(s.ConnectionString, s.Container, options)
		if err != nil {
			return nil, "", fmt.Errorf("SLUICE_OFFSETS_AZBLOB_CONNECTION_STRING: %w", err)
		}
		return client, connectionStringParts(s.ConnectionString)["AccountName"], nil
	}

	endpoint := s.Endpoint
	if endpoint == "" {
		endpoint = "https://" + s.Account + ".blob.core.windows.net/"
	}
	credential, err := container.NewSharedKeyCredential(s.Account, s.Key)
	if err != nil {
		return nil, "", fmt.Errorf("SLUICE_OFFSETS_AZBLOB_KEY of account %q is not usable: %w", s.Account, err)
	}
	containerURL := strings.TrimRight(endpoint, "/") + "/" + url.PathEscape(s.Container)
	client, err := container.NewClientWithSharedKeyCredential(containerURL, credential, options)
	if err != nil {
		return nil, "", fmt.Errorf("SLUICE_OFFSETS_AZBLOB_ENDPOINT %q: %w", endpoint, err)
	}
	return client, s.Account, nil
}

// ensureContainer creates the container unless it exists. Credentials that
// may not create containers, such as a SAS for one container, get a 403, and
// then listing the container shows whether it exists anyway.
func (t *BlobTracker) ensureContainer(ctx context.Context) error {
	_, err := t.container.Create(ctx, nil)
	if err == nil || bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
		return nil
	}
	if isPermissionError(err) {
		pager := t.container.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{MaxResults: to.Ptr[int32](1)})
		if _, listErr := pager.NextPage(ctx); listErr == nil {
			return nil
		}
	}
	return t.storageError("create container", err)
}

// BlobName returns the name of the blob that keeps the position of stream.
func (t *BlobTracker) BlobName(stream string) (string, error) {
	return positionBlobName(t.prefix, stream)
}

func positionBlobName(prefix, stream string) (string, error) {
	if !validStream.MatchString(stream) || stream == "." || stream == ".." {
		return "", fmt.Errorf("invalid stream id %q: use letters, digits, '.', '_' and '-'", stream)
	}
	return prefix + stream + ".json", nil
}

// streamOfBlob returns the stream whose position blob is name, and false
// for any other blob under prefix.
func streamOfBlob(prefix, name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return "", false
	}
	stream, ok := strings.CutSuffix(rest, ".json")
	if !ok || !validStream.MatchString(stream) || stream == "." || stream == ".." {
		return "", false
	}
	return stream, true
}

// placeholderMetadata marks a blob that Hold created for a stream with no
// position, so that List leaves it out. A save replaces the metadata.
const placeholderMetadata = "sluiceplaceholder"

// placeholderBlob returns the content of a placeholder blob: a position
// that names only its stream.
func placeholderBlob(stream string) ([]byte, error) {
	return Position{Stream: stream}.Marshal()
}

// parsePositionBlob reads the content of stream's blob. A placeholder
// returns a zero Position.
func parsePositionBlob(data []byte, stream string) (Position, error) {
	var p Position
	if err := json.Unmarshal(data, &p); err != nil {
		return Position{}, fmt.Errorf("%w: %v", ErrInvalidPosition, err)
	}
	if p.Stream != "" && p.Stream != stream {
		return Position{}, fmt.Errorf("%w: it belongs to stream %q, not %q", ErrInvalidPosition, p.Stream, stream)
	}
	if p.Stream == stream && p.IsZero() && p.Pos == 0 {
		return Position{}, nil
	}
	return ParsePosition(data)
}

// maxPositionBlobSize bounds what Load reads. A position takes a few hundred
// bytes, but a GTID set of many domains can be longer.
const maxPositionBlobSize = 1 << 20

// Load returns the saved position of stream, or a zero Position when its
// blob does not exist or is a placeholder that Hold created.
func (t *BlobTracker) Load(ctx context.Context, stream string) (Position, error) {
	name, err := t.BlobName(stream)
	if err != nil {
		return Position{}, err
	}
	response, err := t.container.NewBlobClient(name).DownloadStream(ctx, nil)
	if bloberror.HasCode(err, bloberror.BlobNotFound) {
		t.setETag(stream, nil)
		return Position{}, nil
	}
	if err != nil {
		return Position{}, t.storageError(fmt.Sprintf("read position blob %s", name), err)
	}
	defer response.Body.Close()
	data, err := io.ReadAll(io.LimitReader(response.Body, maxPositionBlobSize+1))
	if err != nil {
		return Position{}, fmt.Errorf("read position blob %s in container %q: %w", name, t.containerName, err)
	}
	if len(data) > maxPositionBlobSize {
		return Position{}, fmt.Errorf("position blob %s in container %q is invalid: it is larger than %d bytes; "+
			"delete it: sluice then resumes from the positions topic when it holds this stream, or else from the server's current position",
			name, t.containerName, maxPositionBlobSize)
	}
	p, err := parsePositionBlob(data, stream)
	if err != nil {
		return Position{}, fmt.Errorf("position blob %s in container %q: %w; delete it: sluice then resumes from the positions topic "+
			"when it holds this stream, or else from the server's current position", name, t.containerName, err)
	}
	t.setETag(stream, response.ETag)
	return p, nil
}

// ErrConflict is wrapped by the error of a write that found the stream's
// blob changed after this tracker last read or wrote it.
var ErrConflict = errors.New("position blob changed by another writer")

// Save stores p as the position of stream. The write is conditional on the
// ETag that this tracker last read or wrote, or on the blob not existing
// when it has read none, and carries the lease while the stream is held.
// A Save that failed without a response may still have been stored, and
// then the next Save of another position fails with ErrConflict until Load
// reads the blob again.
func (t *BlobTracker) Save(ctx context.Context, stream string, p Position) error {
	name, err := t.BlobName(stream)
	if err != nil {
		return err
	}
	if p.IsZero() || p.Pos == 0 {
		return fmt.Errorf("%w: cannot save %s as the position of stream %q", ErrInvalidPosition, p, stream)
	}
	p.Stream = stream
	data, err := p.Marshal()
	if err != nil {
		return err
	}
	return t.write(ctx, stream, name, data, nil)
}

// write uploads data as stream's blob under the tracker's conditions.
func (t *BlobTracker) write(ctx context.Context, stream, name string, data []byte, metadata map[string]*string) error {
	t.mu.Lock()
	etag, known := t.etags[stream]
	leaseID := t.leaseIDLocked(stream)
	t.mu.Unlock()

	conditions := &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{}}
	if known {
		conditions.ModifiedAccessConditions.IfMatch = &etag
	} else {
		conditions.ModifiedAccessConditions.IfNoneMatch = to.Ptr(azcore.ETagAny)
	}
	if leaseID != "" {
		conditions.LeaseAccessConditions = &blob.LeaseAccessConditions{LeaseID: &leaseID}
	}
	response, err := t.container.NewBlockBlobClient(name).Upload(ctx, streaming.NopCloser(bytes.NewReader(data)), &blockblob.UploadOptions{
		AccessConditions: conditions,
		HTTPHeaders:      &blob.HTTPHeaders{BlobContentType: to.Ptr("application/json")},
		Metadata:         metadata,
	})
	if err == nil {
		t.setETag(stream, response.ETag)
		return nil
	}

	if isConditionError(err) {
		// The SDK retries a request whose response was lost. When the first
		// try was stored, the retry fails its condition, but the blob then
		// contains exactly this data.
		if current, matched := t.blobMatches(ctx, name, data); matched {
			t.setETag(stream, current)
			return nil
		}
	}
	return t.writeError(stream, name, leaseID != "", known, err)
}

// blobMatches reports whether blob name contains data, and its ETag.
func (t *BlobTracker) blobMatches(ctx context.Context, name string, data []byte) (*azcore.ETag, bool) {
	response, err := t.container.NewBlobClient(name).DownloadStream(ctx, nil)
	if err != nil {
		return nil, false
	}
	defer response.Body.Close()
	current, err := io.ReadAll(io.LimitReader(response.Body, maxPositionBlobSize+1))
	if err != nil || !bytes.Equal(current, data) {
		return nil, false
	}
	return response.ETag, true
}

func (t *BlobTracker) writeError(stream, name string, withLease, etagKnown bool, err error) error {
	switch {
	case bloberror.HasCode(err, bloberror.LeaseIDMissing):
		return &wrappedError{
			message: fmt.Sprintf("%s: the position of stream %q was not saved, because blob %s has a lease that this tracker does not hold. %s",
				ErrHeld, stream, name, t.heldAdvice(stream, name)),
			errs: []error{ErrHeld, err},
		}
	case bloberror.HasCode(err, bloberror.LeaseIDMismatchWithBlobOperation):
		return &wrappedError{
			message: fmt.Sprintf("%s: the position of stream %q was not saved, because this worker's lease on blob %s was lost "+
				"and another worker holds the stream now; stop this worker", ErrHeld, stream, name),
			errs: []error{ErrHeld, err},
		}
	case withLease && bloberror.HasCode(err, bloberror.LeaseNotPresentWithBlobOperation, bloberror.LeaseLost):
		return &wrappedError{
			message: fmt.Sprintf("the position of stream %q was not saved, because this worker's lease on blob %s "+
				"expired or was broken; stop this worker and start it again to hold the stream anew", stream, name),
			errs: []error{err},
		}
	case isConditionError(err) && etagKnown:
		return &wrappedError{
			message: fmt.Sprintf("%s: the position of stream %q was not saved, because blob %s in container %q changed after this tracker "+
				"last read or wrote it. Make sure that only one sluice runs with SLUICE_STREAM_ID=%s, then restart it so that it loads the current position",
				ErrConflict, stream, name, t.containerName, stream),
			errs: []error{ErrConflict, err},
		}
	case isConditionError(err):
		return &wrappedError{
			message: fmt.Sprintf("%s: the position of stream %q was not saved, because blob %s in container %q was created by another writer "+
				"after this tracker found none. Make sure that only one sluice runs with SLUICE_STREAM_ID=%s, then restart it so that it loads the current position",
				ErrConflict, stream, name, t.containerName, stream),
			errs: []error{ErrConflict, err},
		}
	}
	return t.storageError(fmt.Sprintf("save position of stream %q to blob %s", stream, name), err)
}

// isConditionError reports whether err is a failed If-Match or
// If-None-Match condition. Put Blob with If-None-Match: * returns 409
// BlobAlreadyExists rather than 412 for an existing blob.
func isConditionError(err error) bool {
	return bloberror.HasCode(err, bloberror.ConditionNotMet, bloberror.BlobAlreadyExists)
}

func (t *BlobTracker) setETag(stream string, etag *azcore.ETag) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if etag == nil {
		delete(t.etags, stream)
		return
	}
	t.etags[stream] = *etag
}

// Delete removes the position of stream. While this tracker holds the
// stream, the blob is replaced by a placeholder instead, because deleting
// it would end the lease.
func (t *BlobTracker) Delete(ctx context.Context, stream string) error {
	name, err := t.BlobName(stream)
	if err != nil {
		return err
	}
	t.mu.Lock()
	held := t.leaseIDLocked(stream) != ""
	t.mu.Unlock()
	if held {
		data, err := placeholderBlob(stream)
		if err != nil {
			return err
		}
		return t.write(ctx, stream, name, data, map[string]*string{placeholderMetadata: to.Ptr("true")})
	}

	_, err = t.container.NewBlobClient(name).Delete(ctx, &blob.DeleteOptions{
		DeleteSnapshots: to.Ptr(blob.DeleteSnapshotsOptionTypeInclude),
	})
	switch {
	case err == nil || bloberror.HasCode(err, bloberror.BlobNotFound):
		t.setETag(stream, nil)
		return nil
	case bloberror.HasCode(err, bloberror.LeaseIDMissing):
		return &wrappedError{
			message: fmt.Sprintf("%s: the position of stream %q was not deleted, because blob %s has a lease that this tracker does not hold. %s",
				ErrHeld, stream, name, t.heldAdvice(stream, name)),
			errs: []error{ErrHeld, err},
		}
	}
	return t.storageError(fmt.Sprintf("delete position blob %s", name), err)
}

// List returns the streams that have a position blob under the prefix,
// leaving out placeholders and other blobs.
func (t *BlobTracker) List(ctx context.Context) ([]string, error) {
	pager := t.container.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{
		Prefix:  &t.prefix,
		Include: container.ListBlobsInclude{Metadata: true},
	})
	var streams []string
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, t.storageError("list position blobs", err)
		}
		for _, item := range page.Segment.BlobItems {
			if item.Name == nil || isPlaceholder(item.Metadata) {
				continue
			}
			if stream, ok := streamOfBlob(t.prefix, *item.Name); ok {
				streams = append(streams, stream)
			}
		}
	}
	sort.Strings(streams)
	return streams, nil
}

// isPlaceholder reports whether blob metadata marks a placeholder.
// Metadata names are case-insensitive.
func isPlaceholder(metadata map[string]*string) bool {
	for name := range metadata {
		if strings.EqualFold(name, placeholderMetadata) {
			return true
		}
	}
	return false
}

// Check creates the container when missing, then writes and deletes a
// blob under the prefix that no stream uses.
func (t *BlobTracker) Check(ctx context.Context) error {
	if err := t.ensureContainer(ctx); err != nil {
		return err
	}
	random := make([]byte, 8)
	if _, err := rand.Read(random); err != nil {
		return err
	}
	name := t.prefix + ".sluice-check-" + hex.EncodeToString(random)
	response, err := t.container.NewBlockBlobClient(name).Upload(ctx, streaming.NopCloser(bytes.NewReader([]byte("{}"))), &blockblob.UploadOptions{
		AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfNoneMatch: to.Ptr(azcore.ETagAny)}},
	})
	if err != nil {
		return t.storageError(fmt.Sprintf("write check blob %s", name), err)
	}
	_, err = t.container.NewBlobClient(name).Delete(ctx, &blob.DeleteOptions{
		AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfMatch: response.ETag}},
	})
	if err != nil {
		return t.storageError(fmt.Sprintf("delete check blob %s", name), err)
	}
	return nil
}

// Close releases the streams that this tracker holds and stops renewing
// their leases.
func (t *BlobTracker) Close() error {
	t.mu.Lock()
	t.closed = true
	holds := make([]*blobHold, 0, len(t.holds))
	for _, h := range t.holds {
		holds = append(holds, h)
	}
	t.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	for _, h := range holds {
		if err := h.Release(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Hold takes stream for this tracker through a lease on its blob, creating
// a placeholder blob when the stream has no position yet. It fails with an
// error wrapping ErrHeld while another worker holds the lease. The lease is
// renewed every third of SLUICE_OFFSETS_AZBLOB_LEASE_SECONDS until Release
// or Close. Renewal problems are logged to the zerolog logger of ctx
// (zerolog.Ctx).
func (t *BlobTracker) Hold(ctx context.Context, stream string) (Hold, error) {
	name, err := t.BlobName(stream)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	closed := t.closed
	alreadyHeld := t.holds[stream] != nil
	t.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("hold stream %q: the azblob tracker is closed", stream)
	}
	if alreadyHeld {
		return nil, fmt.Errorf("stream %q is held by this tracker already: release that hold first", stream)
	}

	leaseClient, err := lease.NewBlobClient(t.container.NewBlobClient(name), nil)
	if err != nil {
		return nil, fmt.Errorf("hold stream %q: %w", stream, err)
	}
	// A placeholder that another worker creates or deletes at the same
	// time makes an attempt fail. Three attempts cover such races.
	for range 3 {
		acquiredAt := time.Now()
		response, err := leaseClient.AcquireLease(ctx, int32(t.lease/time.Second), nil)
		switch {
		case err == nil:
			return t.startHold(ctx, stream, name, leaseClient, response.ETag, acquiredAt)
		case bloberror.HasCode(err, bloberror.LeaseAlreadyPresent, bloberror.LeaseIsBreakingAndCannotBeAcquired):
			return nil, &wrappedError{
				message: fmt.Sprintf("%s: stream %q could not be held, because blob %s has a lease. %s", ErrHeld, stream, name, t.heldAdvice(stream, name)),
				errs:    []error{ErrHeld, err},
			}
		case bloberror.HasCode(err, bloberror.BlobNotFound):
			if err := t.createPlaceholder(ctx, stream, name); err != nil {
				return nil, err
			}
		default:
			return nil, t.storageError(fmt.Sprintf("acquire lease on blob %s for stream %q", name, stream), err)
		}
	}
	return nil, fmt.Errorf("hold stream %q: blob %s was created and deleted by others during three attempts to lease it; "+
		"check what else writes to container %q", stream, name, t.containerName)
}

// createPlaceholder creates stream's blob unless it exists. The new blob's
// ETag is recorded, so that the first Save may replace it.
func (t *BlobTracker) createPlaceholder(ctx context.Context, stream, name string) error {
	data, err := placeholderBlob(stream)
	if err != nil {
		return err
	}
	response, err := t.container.NewBlockBlobClient(name).Upload(ctx, streaming.NopCloser(bytes.NewReader(data)), &blockblob.UploadOptions{
		AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfNoneMatch: to.Ptr(azcore.ETagAny)}},
		HTTPHeaders:      &blob.HTTPHeaders{BlobContentType: to.Ptr("application/json")},
		Metadata:         map[string]*string{placeholderMetadata: to.Ptr("true")},
	})
	switch {
	case err == nil:
		t.setETag(stream, response.ETag)
		return nil
	case isConditionError(err), bloberror.HasCode(err, bloberror.LeaseIDMissing):
		// Another worker created the blob first. The lease acquisition that
		// follows fails with ErrHeld if that worker holds the stream.
		return nil
	}
	return t.storageError(fmt.Sprintf("create placeholder blob %s for stream %q", name, stream), err)
}

func (t *BlobTracker) startHold(ctx context.Context, stream, name string, leaseClient *lease.BlobClient, etag *azcore.ETag, acquiredAt time.Time) (Hold, error) {
	renewCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	h := &blobHold{
		tracker: t,
		stream:  stream,
		name:    name,
		leaseID: *leaseClient.LeaseID(),
		client:  leaseClient,
		log:     zerolog.Ctx(ctx).With().Str("stream", stream).Str("blob", name).Logger(),
		lost:    make(chan struct{}),
		cancel:  cancel,
		done:    make(chan struct{}),
	}

	t.mu.Lock()
	if t.closed || t.holds[stream] != nil {
		t.mu.Unlock()
		cancel()
		close(h.done)
		releaseCtx, stop := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer stop()
		_, _ = leaseClient.ReleaseLease(releaseCtx, nil)
		return nil, fmt.Errorf("hold stream %q: the tracker was closed or took the stream meanwhile", stream)
	}
	t.holds[stream] = h
	// The lease keeps other writers out from now on, so its ETag is safe to
	// write over when this tracker has read none before.
	if _, known := t.etags[stream]; !known && etag != nil {
		t.etags[stream] = *etag
	}
	t.mu.Unlock()

	go h.renew(renewCtx, t.lease, acquiredAt)
	h.log.Debug().Dur("lease", t.lease).Msg("holding stream through blob lease")
	return h, nil
}

// leaseIDLocked returns the lease id of stream while this tracker holds
// it, or "". The caller holds t.mu.
func (t *BlobTracker) leaseIDLocked(stream string) string {
	if h := t.holds[stream]; h != nil {
		return h.leaseID
	}
	return ""
}

// heldAdvice returns the steps that free a stream held elsewhere.
func (t *BlobTracker) heldAdvice(stream, name string) string {
	account := t.account
	if account == "" {
		account = "<account>"
	}
	return fmt.Sprintf("Another sluice with SLUICE_STREAM_ID=%s is running: stop it, or give this worker another stream id. "+
		"If that worker is gone, its lease expires within its SLUICE_OFFSETS_AZBLOB_LEASE_SECONDS (at most %d seconds), "+
		"or break the lease at once with: az storage blob lease break --account-name %s --container-name %s --blob-name %s",
		stream, maxLeaseSeconds, account, t.containerName, name)
}

// blobHold is a stream held through a lease on its blob.
type blobHold struct {
	tracker *BlobTracker
	stream  string
	name    string
	leaseID string
	client  *lease.BlobClient
	log     zerolog.Logger

	lost     chan struct{}
	lostOnce sync.Once
	cancel   context.CancelFunc // stops renew
	done     chan struct{}      // closed when renew has returned

	releaseOnce sync.Once
	releaseErr  error
}

// Lost is closed when the lease could not be renewed before it expired, or
// the service reported it gone, for example because it was broken.
func (h *blobHold) Lost() <-chan struct{} {
	return h.lost
}

// Release stops the renewal and releases the lease. Releasing a lease that
// is already lost is not an error: Lost has reported that.
func (h *blobHold) Release(ctx context.Context) error {
	h.releaseOnce.Do(func() {
		h.cancel()
		<-h.done

		t := h.tracker
		t.mu.Lock()
		if t.holds[h.stream] == h {
			delete(t.holds, h.stream)
		}
		t.mu.Unlock()

		_, err := h.client.ReleaseLease(ctx, nil)
		switch {
		case err == nil:
			h.log.Debug().Msg("released stream")
		case isLeaseGone(err):
			h.log.Debug().Str("error", summarize(err)).Msg("released stream whose blob lease was already gone")
		default:
			h.releaseErr = t.storageError(fmt.Sprintf("release lease on blob %s of stream %q", h.name, h.stream), err)
		}
	})
	return h.releaseErr
}

// renew renews the lease every third of its duration. After a failed
// renewal it tries again every second, and reports the hold lost once the
// lease may have expired: duration after the start of the last successful
// renewal, which is no later than the service's own expiry.
func (h *blobHold) renew(ctx context.Context, duration time.Duration, acquiredAt time.Time) {
	defer close(h.done)
	interval := duration / 3
	retry := min(time.Second, interval)
	validUntil := acquiredAt.Add(duration)
	failures := 0

	timer := time.NewTimer(interval)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}

		started := time.Now()
		attemptCtx, cancel := context.WithDeadline(ctx, validUntil)
		_, err := h.client.RenewLease(attemptCtx, nil)
		cancel()
		switch {
		case err == nil:
			if failures > 0 {
				h.log.Info().Int("failures", failures).Msg("renewed blob lease after failures")
			}
			failures = 0
			validUntil = started.Add(duration)
			timer.Reset(interval)
		case ctx.Err() != nil:
			return
		case isLeaseGone(err):
			h.markLost(err, "blob lease is gone, probably broken or taken over")
			return
		case !time.Now().Before(validUntil):
			h.markLost(err, "blob lease expired, because renewing it failed for its whole duration")
			return
		default:
			failures++
			// Every failure is logged at first, then every tenth.
			if failures <= 3 || failures%10 == 0 {
				h.log.Warn().Str("error", summarize(err)).Int("failures", failures).Time("valid_until", validUntil).Msg("renewing blob lease failed; retrying")
			}
			timer.Reset(retry)
		}
	}
}

func (h *blobHold) markLost(err error, reason string) {
	h.lostOnce.Do(func() {
		h.log.Error().Str("error", summarize(err)).Msg(reason + "; the stream is no longer held")
		close(h.lost)
	})
}

// isLeaseGone reports whether err means that the lease of this client no
// longer exists on the blob.
func isLeaseGone(err error) bool {
	return bloberror.HasCode(err,
		bloberror.LeaseIDMismatchWithLeaseOperation,
		bloberror.LeaseNotPresentWithLeaseOperation,
		bloberror.LeaseIsBrokenAndCannotBeRenewed,
		bloberror.LeaseLost,
		bloberror.BlobNotFound,
		bloberror.ContainerNotFound,
	)
}

func isPermissionError(err error) bool {
	return bloberror.HasCode(err,
		bloberror.AuthorizationFailure,
		bloberror.AuthorizationPermissionMismatch,
		bloberror.AuthorizationResourceTypeMismatch,
		bloberror.AuthorizationServiceMismatch,
		bloberror.AuthorizationSourceIPMismatch,
		bloberror.AuthorizationProtocolMismatch,
		bloberror.InsufficientAccountPermissions,
	)
}

// storageError describes a failed request in one line, with the probable
// fix for credentials and permissions. The SDK's own message spans many
// lines with the request, so it is kept only as the wrapped error.
func (t *BlobTracker) storageError(action string, err error) error {
	where := fmt.Sprintf("%s (container %q, storage account %s)", action, t.containerName, t.accountForMessages())
	var response *azcore.ResponseError
	if !errors.As(err, &response) {
		// A URL error shows the request URL, whose query may hold a SAS,
		// so only its operation, host and cause are shown.
		detail := err.Error()
		var requestErr *url.Error
		if errors.As(err, &requestErr) {
			detail = requestErr.Op
			if u, parseErr := url.Parse(requestErr.URL); parseErr == nil {
				detail += " " + u.Host
			}
			detail += ": " + requestErr.Err.Error()
		}
		return &wrappedError{
			message: fmt.Sprintf("%s: %s; check that the blob service is reachable and that SLUICE_OFFSETS_AZBLOB_ENDPOINT "+
				"or the BlobEndpoint of SLUICE_OFFSETS_AZBLOB_CONNECTION_STRING names it", where, detail),
			errs: []error{err},
		}
	}

	status := responseStatus(response)
	var message string
	switch {
	case bloberror.HasCode(err, bloberror.AuthenticationFailed, bloberror.InvalidAuthenticationInfo):
		message = fmt.Sprintf("%s: the account rejected the credentials (%s): check SLUICE_OFFSETS_AZBLOB_KEY, "+
			"or the AccountKey or SharedAccessSignature in SLUICE_OFFSETS_AZBLOB_CONNECTION_STRING", where, status)
	case t.accountKey && bloberror.HasCode(err, bloberror.AuthorizationFailure):
		// An account key may do everything, so this is not a missing
		// permission. Azure Storage returns it when the account's firewall
		// rejects the client, and Azurite 3.35 returns it for a wrong key.
		message = fmt.Sprintf("%s: the account rejected the credentials or this client (%s): check SLUICE_OFFSETS_AZBLOB_KEY, "+
			"or the AccountKey in SLUICE_OFFSETS_AZBLOB_CONNECTION_STRING; if the account has firewall rules, allow this client's address",
			where, status)
	case isPermissionError(err):
		message = fmt.Sprintf("%s: the credentials lack a permission (%s): grant them read, write, delete, list and create "+
			"on the container, for example with the Storage Blob Data Contributor role or a SAS with permissions racwdl, "+
			"or use the account key", where, status)
	case bloberror.HasCode(err, bloberror.AccountIsDisabled):
		message = fmt.Sprintf("%s: the account is disabled (%s): enable it or use another account", where, status)
	case bloberror.HasCode(err, bloberror.ContainerNotFound, bloberror.ContainerBeingDeleted):
		message = fmt.Sprintf("%s: the container does not exist (%s): it was deleted while sluice ran; restart sluice to create it",
			where, status)
	default:
		message = fmt.Sprintf("%s: the blob service returned %s", where, status)
	}
	return &wrappedError{message: message, errs: []error{err}}
}

// accountForMessages returns the account name, or for a connection string
// with only a SAS the host of the blob service. The URL's query, which
// holds the SAS, is never shown.
func (t *BlobTracker) accountForMessages() string {
	if t.account != "" {
		return t.account
	}
	if u, err := url.Parse(t.container.URL()); err == nil {
		return u.Host
	}
	return "(unknown)"
}

// responseStatus returns the HTTP status and the storage error code.
func responseStatus(response *azcore.ResponseError) string {
	return strings.TrimSpace(fmt.Sprintf("%d %s", response.StatusCode, response.ErrorCode))
}

// summarize returns err in one line for logs: the status and error code of
// a storage response, or else the error's text.
func summarize(err error) string {
	var response *azcore.ResponseError
	if errors.As(err, &response) {
		return responseStatus(response)
	}
	return err.Error()
}

// wrappedError has a message of its own and wraps the errors it explains,
// for errors.Is and errors.As.
type wrappedError struct {
	message string
	errs    []error
}

func (e *wrappedError) Error() string   { return e.message }
func (e *wrappedError) Unwrap() []error { return e.errs }

var (
	_ Holder = (*BlobTracker)(nil)
	_ Hold   = (*blobHold)(nil)
)
