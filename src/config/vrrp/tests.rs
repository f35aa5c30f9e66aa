//! Tests of the VRRP sections.
