// SPDX-License-Identifier: GPL-2.0-only
/* The interface name table (sources/ifwatch.c): names are cleaned for display, and the
 * names of interfaces that went are forgotten two hand-overs later, so that churn (VPN
 * users connecting and leaving all day) cannot grow it without bound. */
#define CHECK_SUITE "ifnames"
#include <stdio.h>
#include "check.h"
#include "sources/ifwatch.h"

#define BASE 1000000 /* ifindexes no interface of the test machine has */

int main(void)
{
	char name[IF_NAMESIZE];

	iface_remember(BASE, "e\x1b[2J\xffx");
	CHECK_STR("a name is cleaned for display", iface_name(BASE), "e\\x1b[2J\\xffx");
	iface_remember(BASE, "vpns0");
	CHECK_STR("a rename is followed", iface_name(BASE), "vpns0");
	iface_names_release();

	/* 100 rounds of 1000 users connecting and leaving */
	for (int round = 0; round < 100; round++) {
		for (int i = 1; i <= 1000; i++) {
			snprintf(name, sizeof(name), "vpns%d", i);
			iface_remember(BASE + round * 1000 + i, name);
		}
		for (int i = 1; i <= 1000; i++)
			iface_forget(BASE + round * 1000 + i);
		if (round == 0)
			CHECK_STR("names of interfaces just gone are kept", iface_name(BASE + 7),
				  "vpns7");
		iface_names_release(); /* the hand-over of this round's gone interfaces */
		if (round == 0)
			CHECK_STR("kept through the hand-over that reports them",
				  iface_name(BASE + 7), "vpns7");
	}
	iface_names_release();
	CHECK_INT("after 100000 interfaces came and went, only the live one is known",
		  iface_names_count(), 1);
	CHECK_STR("the live one keeps its name", iface_name(BASE), "vpns0");
	CHECK_STR("one gone long ago is forgotten", iface_name(BASE + 7), "if1000007");
	return check_done();
}
