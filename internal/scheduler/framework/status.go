package framework

import "strings"

// Code is the outcome of a Filter.
type Code int

const (
	// Success: the pod fits the node.
	Success Code = iota
	// Error: the filter could not decide (e.g. the NodeInfo has no Node).
	Error
	// Unschedulable: the pod does not fit now, but preempting pods on the
	// node might make it fit (resources, host ports).
	Unschedulable
	// UnschedulableAndUnresolvable: the pod does not fit and removing pods
	// from the node would not change that (taints, affinity, node name).
	UnschedulableAndUnresolvable
)

func (c Code) String() string {
	switch c {
	case Success:
		return "Success"
	case Error:
		return "Error"
	case Unschedulable:
		return "Unschedulable"
	case UnschedulableAndUnresolvable:
		return "UnschedulableAndUnresolvable"
	}
	return "Unknown"
}

// Status is a Filter's verdict. A nil *Status means Success.
type Status struct {
	code    Code
	reasons []string
	plugin  string
}

// NewStatus returns a Status with the given code and reasons.
func NewStatus(code Code, reasons ...string) *Status {
	return &Status{code: code, reasons: reasons}
}

// Code returns the status code; Success for a nil Status.
func (s *Status) Code() Code {
	if s == nil {
		return Success
	}
	return s.code
}

// IsSuccess reports whether s is nil or has code Success.
func (s *Status) IsSuccess() bool { return s.Code() == Success }

// IsRejected reports whether the pod was found not to fit (as opposed to
// success or an error).
func (s *Status) IsRejected() bool {
	c := s.Code()
	return c == Unschedulable || c == UnschedulableAndUnresolvable
}

// Reasons returns the reasons; the caller must not modify the slice.
func (s *Status) Reasons() []string {
	if s == nil {
		return nil
	}
	return s.reasons
}

// Plugin returns the name of the filter that produced the status.
func (s *Status) Plugin() string {
	if s == nil {
		return ""
	}
	return s.plugin
}

// withPlugin records the filter name and returns s.
func (s *Status) withPlugin(name string) *Status {
	if s != nil {
		s.plugin = name
	}
	return s
}

// Message joins the reasons with ", ", as upstream's Status.Message does.
func (s *Status) Message() string {
	if s == nil {
		return ""
	}
	return strings.Join(s.reasons, ", ")
}

func (s *Status) String() string {
	if s == nil {
		return "Success"
	}
	if len(s.reasons) == 0 {
		return s.code.String()
	}
	return s.code.String() + ": " + s.Message()
}
