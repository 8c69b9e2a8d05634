// Package readme holds the tests that keep the repository's README.md true: its Go snippets compile
// (readme_test.go says the convention a snippet follows), its Layout table names every package and
// nested module, and the main module requires only the dependencies it names. It has no code of its
// own.
package readme
