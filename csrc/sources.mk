# The C core's sources: the one list that the Makefile (make build) and rock.mk
# (the rockspecs' make build) both include.
KC_SRC := csrc/core.c csrc/fs.c
KC_HDR := csrc/compat.h csrc/fs.h
