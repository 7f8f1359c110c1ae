package registry

import "context"

type subresourceKey struct{}

// WithSubresource records in ctx the subresource a write comes through,
// so strategies can tell a /status or /binding write from a main one.
// The generic store sets it before calling any strategy method.
func WithSubresource(ctx context.Context, sub string) context.Context {
	return context.WithValue(ctx, subresourceKey{}, sub)
}

// SubresourceFrom is the subresource of the write in ctx; "" for the main
// resource.
func SubresourceFrom(ctx context.Context) string {
	sub, _ := ctx.Value(subresourceKey{}).(string)
	return sub
}
