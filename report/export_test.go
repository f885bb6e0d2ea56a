package report

// SampleModel is the Model CheckTemplate executes a user template over.
func SampleModel() *Model { return sampleModel() }
