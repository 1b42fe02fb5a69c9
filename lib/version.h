/*
 * version.h: the one version string of certdeploy's programs. Every
 * binary's --version prints "<name> CERTDEPLOY_VERSION", and the server's
 * certdeploy_build_info metric carries the same string. A packager may
 * override it: make CFLAGS='-O2 -DCERTDEPLOY_VERSION=\"1.2.3\"'.
 */
#ifndef CERTDEPLOY_VERSION_H
#define CERTDEPLOY_VERSION_H

#ifndef CERTDEPLOY_VERSION
#define CERTDEPLOY_VERSION "0.1.0"
#endif

#endif
