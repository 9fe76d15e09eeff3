// SPDX-License-Identifier: GPL-2.0

// A static Go helper for eprog: CGO_ENABLED=0 go build, embed with UMH_BLOB.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	interval := 5000
	line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	for _, pair := range strings.Fields(line) {
		if strings.HasPrefix(pair, "interval_ms=") {
			if n, err := strconv.Atoi(strings.TrimPrefix(pair, "interval_ms=")); err == nil {
				interval = n
			}
		}
	}
	for {
		fmt.Println("Hello from Go!")
		time.Sleep(time.Duration(interval) * time.Millisecond)
	}
}
