# Managed by the ONEX node template: `copier update` replaces this file.
