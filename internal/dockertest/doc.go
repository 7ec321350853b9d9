// Package dockertest tests the repository's Dockerfile with the local
// Docker engine: TestDockerImage builds the image and runs it. It has no
// code of its own; it is a package so that the image build, which takes
// minutes when nothing is cached, has go test's timeout to itself.
package dockertest
