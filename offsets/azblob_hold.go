package offsets

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"
	"github.com/rs/zerolog"
)

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

var (
	_ Holder = (*BlobTracker)(nil)
	_ Hold   = (*blobHold)(nil)
)
