//! API tests (filled in below).
