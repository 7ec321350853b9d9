# The bgmigrate container: a static binary on an empty image, run as a
# non-root user.
#
#   docker build -t bgmigrate --build-arg VERSION=v0.4.0 .
#   docker run --rm -v "$PWD:/work" bgmigrate lint db/migrations
#
# GO_IMAGE is the build stage's image: any Debian-based Go 1.26 image with
# gcc (pg_query, PostgreSQL's parser, is C and is compiled with cgo).
# internal/dockertest builds this file with the local Docker engine.
ARG GO_IMAGE=golang:1.26.8-bookworm

FROM ${GO_IMAGE} AS build
WORKDIR /src
ENV CGO_ENABLED=1
COPY go.mod go.sum ./
# The modules and the packages of the direct requirements (pg_query's C is
# the longest compile) in layers of their own: a rebuild after a source
# change reuses them. A module whose root is no package is skipped.
RUN go mod download
RUN go list -m -f '{{if not (or .Main .Indirect)}}{{.Path}}{{end}}' all \
	| xargs -n1 go build -trimpath -tags netgo,osusergo 2>/dev/null; \
	go build -trimpath -tags netgo,osusergo github.com/pganalyze/pg_query_go/v5
COPY . .
ARG VERSION=
# netgo and osusergo keep the C library's resolver and user lookups out, so
# the binary links statically and needs nothing from the runtime image.
RUN go build -trimpath -tags netgo,osusergo \
	-ldflags "-s -w -linkmode external -extldflags -static -X github.com/bgmigrate/bgmigrate/internal/cli.version=${VERSION}" \
	-o /out/bgmigrate ./cmd/bgmigrate \
	&& /out/bgmigrate version \
	&& mkdir -p /out/work /out/tmp

FROM scratch
# CA certificates for lint --dsn and deploy over TLS (sslmode=verify-full).
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build --chown=65532:65532 /out/tmp /tmp
COPY --from=build --chown=65532:65532 /out/work /work
COPY --from=build /out/bgmigrate /usr/local/bin/bgmigrate
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/bgmigrate"]
CMD ["--help"]
