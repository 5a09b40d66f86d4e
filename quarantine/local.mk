# quarantine/local.mk - remediation in libvigil: acting on detections
# and the quarantine vault (include/vigil/quarantine.h).
libvigil_la_SOURCES += \
	quarantine/qv.h quarantine/handle.c quarantine/vault.c \
	quarantine/record.h quarantine/record.c \
	quarantine/item.h quarantine/item.c \
	quarantine/items.h quarantine/items.c \
	quarantine/meta.h quarantine/meta.c \
	quarantine/resolve.h quarantine/resolve.c \
	quarantine/act.c quarantine/restore.c
