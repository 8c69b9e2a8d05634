// Package readme holds the test that keeps the Go snippets of the repository's README.md compiling
// (readme_test.go says the convention a snippet follows). It has no code of its own.
package readme
