module lameduck.local/pause

go 1.24
