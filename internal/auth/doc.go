// Package auth authenticates API requests: it turns the credentials a
// request carries into a User. Deciding what that user may do
// (authorization, RBAC) is a separate step and lives elsewhere.
//
// # The Authenticator contract
//
// Authenticate(r) answers one of three ways:
//
//	(user, true, nil)   the request carries credentials of this kind and they are valid
//	(nil, false, nil)   the request carries no credentials of this kind
//	(nil, false, err)   it carries credentials of this kind and they are invalid
//
// Authenticators do not modify the request. The returned *User is a fresh
// value owned by the caller. Every authenticated user is in the group
// system:authenticated.
//
// Kinds provided here:
//
//   - X509Authenticator: a TLS client certificate (r.TLS.PeerCertificates)
//     that chains to the cluster CA for client authentication. Name is the
//     certificate's CommonName, Groups its Organizations.
//   - TokenAuthenticator: a static bearer token (Authorization: Bearer ...),
//     compared in constant time, from a token file and/or added in code.
//   - Union: tries authenticators in order; the first success wins. An
//     invalid credential of one kind does not stop the others from being
//     tried (a stale client certificate plus a good token authenticates);
//     only when none succeeds are the errors returned, joined.
//
// # Token file format
//
// The format of kube-apiserver's --token-auth-file: CSV, one token per
// line, at least three columns:
//
//	token,user,uid,"group1,group2"
//
// The fourth column is optional and lists groups separated by commas (quote
// it when there is more than one). Further columns are ignored; blank lines
// are skipped; leading spaces in a field are trimmed. Unlike kube-apiserver,
// which logs a warning and goes on, an empty token or a token that appears
// twice is an error: both are configuration mistakes that would otherwise
// silently change who a token belongs to.
//
// # Middleware
//
// Middleware authenticates every request before it reaches the next
// handler and stores the User in the request context (UserFrom). A request
// without credentials is let through only to public paths (PublicPath:
// health and version endpoints), with no User in the context. Any other
// request that does not authenticate — including one with invalid
// credentials on a public path, as kube-apiserver does — is answered 401
// with a Kubernetes Status object:
//
//	{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
//	 "message":"Unauthorized","reason":"Unauthorized","code":401}
package auth
