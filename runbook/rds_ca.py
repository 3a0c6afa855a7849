"""Amazon RDS's certificate bundle: where AWS publishes it and where a task's image keeps it.

The task definition names IN_IMAGE as DB_SSLROOTCERT (sslmode verify-full: the connection
checks the database's certificate against RDS's CAs and its endpoint name). The Todo API's
Dockerfile and the one `runbook init` writes fetch it with ADD_LINE; an app's own Dockerfile
needs the same line (init says so). In the sandbox every task finds its CA there instead.
"""

# The global bundle (every region's CAs), as the RDS User Guide's "Certificate bundles by
# AWS Region" gives it; served over TLS only.
URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"
IN_IMAGE = "/app/certs/rds-global-bundle.pem"
ADD_LINE = f"ADD --chmod=644 {URL} {IN_IMAGE}"
