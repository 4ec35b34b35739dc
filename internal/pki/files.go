package pki

// The CA's files in its directory: the sealed key (0600) is written
// first and the certificate (0644) last, its presence meaning the CA is
// complete. Backups carry both.
const (
	CACertFile = caCertFile
	CAKeyFile  = caKeyFile
)
