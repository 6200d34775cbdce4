# The C core's sources: the one list that the Makefile (make build) and rock.mk
# (the rockspecs' make build) both include.
KC_SRC := csrc/core.c csrc/xfer.c csrc/conn.c csrc/multi.c csrc/response.c csrc/search.c csrc/fs.c
KC_HDR := csrc/core.h csrc/compat.h csrc/fs.h
