# ml/local.mk - see ml/README.md
