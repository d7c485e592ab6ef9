package offsets

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
)

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
