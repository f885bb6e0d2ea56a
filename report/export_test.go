package report

import "context"

// SampleModel is the Model CheckTemplate executes a user template over.
func SampleModel() *Model { return sampleModel() }

// SizeWords says a record's size as its run detail does.
func SizeWords(n int64) string { return sizeWords(n) }

// RecordIn digests the record in dir as Render does.
func RecordIn(ctx context.Context, dir string) (*RecordFile, error) { return recordIn(ctx, dir) }
