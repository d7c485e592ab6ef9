package offsets

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
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
)

// The azblob tracker keeps each stream's position in Azure Blob Storage, as
// the JSON blob <prefix><stream>.json in one container. Every save is
// conditional on the blob's ETag, so a writer that did not read the newest
// position cannot overwrite it. A delete of a stream that is not held is
// not conditional. A worker holds its stream through a blob
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
