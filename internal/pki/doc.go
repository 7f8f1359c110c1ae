// Package pki creates and keeps the credentials a skiff cluster starts with:
// a certificate authority, the API server's serving certificate and an admin
// client certificate, all stored as PEM files in <data dir>/pki.
//
// # Files
//
//	ca.crt     ca.key       cluster CA: ECDSA P-256, self-signed, 10 years
//	server.crt server.key   API server serving certificate, signed by the CA
//	admin.crt  admin.key    client certificate CN=skiff-admin, O=system:masters
//
// Keys are written with mode 0600, certificates 0644, the pki directory is
// 0700. A CA may be supplied by the user: put ca.crt and ca.key in the pki
// directory before the first start (RSA, ECDSA and Ed25519 keys in PKCS#1,
// SEC 1 or PKCS#8 PEM are accepted) and the rest is issued from it.
//
// # Ensure: reuse first, repair what is missing
//
// Ensure is idempotent. A second start on the same data directory reuses the
// CA, so kubeconfigs written earlier keep working:
//
//   - no CA, or only half of the CA pair: a complete new set is generated in
//     a staging directory and renamed into place, so a crash never leaves a
//     half-written set behind (leftover staging directories are removed). A
//     pki directory that existed without a complete CA is renamed to
//     pki.incomplete-<nanoseconds> rather than deleted;
//   - a CA pair that cannot be parsed or whose key does not match: an error
//     wrapping ErrBadCA. A CA is never overwritten, since every credential
//     issued from it would stop working;
//   - a leaf pair (serving or admin) that is missing, unreadable, mismatched,
//     not issued by the CA, past two thirds of its lifetime, or — for the
//     serving certificate — missing a requested host: only that pair is
//     reissued from the CA. A reissued serving certificate keeps the names of
//     the one it replaces, so alternating --listen addresses do not cause a
//     reissue every start.
//
// Every file is replaced atomically (temporary file, fsync, rename, fsync of
// the directory). Within a leaf pair the key is written before the
// certificate; a crash between the two leaves a mismatched pair, which the
// next Ensure detects and reissues.
//
// Ensure is not safe for concurrent use by several processes on one data
// directory; the caller is expected to hold the data directory's lock.
//
// # Ownership
//
// A Bundle is read-only after Ensure returns and is safe for concurrent use.
// Its byte slices and certificates must not be modified. ServerTLSConfig and
// Kubeconfig return fresh values owned by the caller.
package pki
