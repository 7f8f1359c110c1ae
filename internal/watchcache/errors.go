package watchcache

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"skiff.dev/skiff/internal/storage"
)

// The cache answers with Kubernetes API errors (*apierrors.StatusError), so
// the API layer can write them as they are. They are all built here.

// continueExpiredMessage is kube-apiserver's text for a continue token
// whose revision is compacted.
const continueExpiredMessage = "The provided continue parameter is too old to display a consistent list result. " +
	"You can start a new list without the continue parameter, or use the continue token in this response to " +
	"retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - " +
	"objects that were created, modified, or deleted between the time the first chunk was returned and now may " +
	"show up in the list."

// errContinueExpired is 410 Expired for a continue token too old to serve;
// next, when set, continues the same list at the current revision
// (inconsistently), as kube-apiserver offers.
func errContinueExpired(next string) error {
	err := apierrors.NewResourceExpired(continueExpiredMessage)
	err.ErrStatus.ListMeta.Continue = next
	return err
}

// errTooOldResourceVersion is 410 Expired for a resourceVersion older than
// the cache (or the store) keeps.
func errTooOldResourceVersion(rv, oldest storage.Revision) error {
	return apierrors.NewResourceExpired(fmt.Sprintf("too old resource version: %d (%d)", rv, oldest))
}

// errTooLargeResourceVersion is 504 with cause ResourceVersionTooLarge: the
// cache did not reach rv in time. Clients retry after a second.
func errTooLargeResourceVersion(rv, current storage.Revision) error {
	err := apierrors.NewTimeoutError(fmt.Sprintf("Too large resource version: %d, current: %d", rv, current), 1)
	err.ErrStatus.Details.Causes = []metav1.StatusCause{{
		Type:    metav1.CauseTypeResourceVersionTooLarge,
		Message: "Too large resource version",
	}}
	return err
}

func errStopped(prefix string) error {
	return apierrors.NewServiceUnavailable(fmt.Sprintf("the watch cache for %s is not running", prefix))
}

func errBadContinue(err error) error {
	return apierrors.NewBadRequest(fmt.Sprintf("invalid continue token: %v", err))
}

// storageError maps an error of a storage read to an API error; context
// errors pass through for the API layer to classify.
func storageError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, storage.ErrCompacted):
		return apierrors.NewResourceExpired(fmt.Sprintf("too old resource version: %v", err))
	case errors.Is(err, storage.ErrFutureRevision):
		return apierrors.NewTimeoutError(fmt.Sprintf("Too large resource version: %v", err), 1)
	}
	return apierrors.NewInternalError(err)
}

// errorEvent is a watch ERROR event carrying err's Status, with its kind
// set as the wire needs it.
func errorEvent(err error) watch.Event {
	var status metav1.Status
	var se apierrors.APIStatus
	if errors.As(err, &se) {
		status = se.Status()
	} else {
		status = apierrors.NewInternalError(err).Status()
	}
	status.TypeMeta = metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
	return watch.Event{Type: watch.Error, Object: &status}
}

// parseResourceVersion reads a client's resourceVersion: "" and "0" are 0.
func parseResourceVersion(rv string) (storage.Revision, error) {
	if rv == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(rv, 10, 64)
	if err != nil || n < 0 {
		return 0, apierrors.NewBadRequest(fmt.Sprintf("invalid resource version %q", rv))
	}
	return storage.Revision(n), nil
}
