/*
 * abi_layout_check.c: compiles every ApusPublic header as C, so that their
 * _Static_assert size and offset checks run in the host build too (SwiftPM also needs
 * one source file to build a C target). It defines nothing.
 */
#include <ApusPublic/ApusPublic.h>
