package crd

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/uuid"
)

// converter converts custom resources between the versions of one CRD.
// convert never changes its argument, but returns it as it is when it is
// already in the wanted version: callers hand over objects they own (one
// being written, one just decoded), so the copy would be wasted on every
// read and write of the storage version.
type converter interface {
	convert(obj *unstructured.Unstructured, toVersion string) (*unstructured.Unstructured, error)
}

// noneConverter is conversion strategy None: only apiVersion changes.
type noneConverter struct{ group string }

func (c noneConverter) convert(obj *unstructured.Unstructured, to string) (*unstructured.Unstructured, error) {
	want := c.group + "/" + to
	if obj.GetAPIVersion() == want {
		return obj, nil
	}
	out := obj.DeepCopy()
	out.SetAPIVersion(want)
	return out, nil
}

// webhookConverter is conversion strategy Webhook: a ConversionReview
// (apiextensions.k8s.io/v1) POSTed to the CRD's webhook over HTTPS. An
// object already in the wanted version is not sent.
type webhookConverter struct {
	group  string
	url    string
	client *http.Client
}

// webhookTimeout bounds one conversion call, as upstream's 30 s default.
const webhookTimeout = 30 * time.Second

func newConverter(crd *apiextensionsv1.CustomResourceDefinition) (converter, error) {
	c := crd.Spec.Conversion
	if c == nil || c.Strategy != apiextensionsv1.WebhookConverter || c.Webhook == nil || c.Webhook.ClientConfig == nil {
		return noneConverter{group: crd.Spec.Group}, nil
	}
	cc := c.Webhook.ClientConfig
	var target string
	switch {
	case cc.URL != nil:
		target = *cc.URL
	case cc.Service != nil:
		// Services are reached by their DNS name, as from a pod: skiff has
		// no service proxy inside the API server.
		port := int32(443)
		if cc.Service.Port != nil {
			port = *cc.Service.Port
		}
		u := url.URL{Scheme: "https", Host: cc.Service.Name + "." + cc.Service.Namespace + ".svc:" + strconv.Itoa(int(port))}
		if cc.Service.Path != nil {
			u.Path = *cc.Service.Path
		}
		target = u.String()
	}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(cc.CABundle) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(cc.CABundle) {
			return nil, fmt.Errorf("crd %s: conversion webhook caBundle holds no PEM certificate", crd.Name)
		}
		tlsCfg.RootCAs = pool
	}
	return &webhookConverter{
		group:  crd.Spec.Group,
		url:    target,
		client: &http.Client{Timeout: webhookTimeout, Transport: &http.Transport{TLSClientConfig: tlsCfg, MaxIdleConnsPerHost: 16}},
	}, nil
}

func (c *webhookConverter) convert(obj *unstructured.Unstructured, to string) (*unstructured.Unstructured, error) {
	want := c.group + "/" + to
	if obj.GetAPIVersion() == want {
		return obj, nil
	}
	raw, err := obj.MarshalJSON()
	if err != nil {
		return nil, err
	}
	review := apiextensionsv1.ConversionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "apiextensions.k8s.io/v1", Kind: "ConversionReview"},
		Request: &apiextensionsv1.ConversionRequest{
			UID:               uuid.NewUUID(),
			DesiredAPIVersion: want,
			Objects:           []runtime.RawExtension{{Raw: raw}},
		},
	}
	body, err := json.Marshal(&review)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("conversion webhook for %s failed: %w", obj.GroupVersionKind().GroupKind(), err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("conversion webhook for %s failed: %w", obj.GroupVersionKind().GroupKind(), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 3<<20))
	if err != nil {
		return nil, fmt.Errorf("conversion webhook for %s failed: %w", obj.GroupVersionKind().GroupKind(), err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("conversion webhook for %s returned HTTP %d", obj.GroupVersionKind().GroupKind(), resp.StatusCode)
	}
	var got apiextensionsv1.ConversionReview
	if err := json.Unmarshal(data, &got); err != nil {
		return nil, fmt.Errorf("conversion webhook for %s returned an unreadable response: %w", obj.GroupVersionKind().GroupKind(), err)
	}
	r := got.Response
	switch {
	case r == nil:
		return nil, fmt.Errorf("conversion webhook for %s returned no response", obj.GroupVersionKind().GroupKind())
	case r.UID != review.Request.UID:
		return nil, fmt.Errorf("conversion webhook for %s returned response.uid %q, want %q", obj.GroupVersionKind().GroupKind(), r.UID, review.Request.UID)
	case r.Result.Status != metav1.StatusSuccess:
		return nil, fmt.Errorf("conversion webhook for %s failed: %s", obj.GroupVersionKind().GroupKind(), r.Result.Message)
	case len(r.ConvertedObjects) != 1:
		return nil, fmt.Errorf("conversion webhook for %s returned %d objects, expected 1", obj.GroupVersionKind().GroupKind(), len(r.ConvertedObjects))
	}
	out := &unstructured.Unstructured{}
	if err := out.UnmarshalJSON(r.ConvertedObjects[0].Raw); err != nil {
		return nil, fmt.Errorf("conversion webhook for %s returned an invalid object: %w", obj.GroupVersionKind().GroupKind(), err)
	}
	if out.GetAPIVersion() != want {
		return nil, fmt.Errorf("conversion webhook for %s returned apiVersion %q, expected %q", obj.GroupVersionKind().GroupKind(), out.GetAPIVersion(), want)
	}
	// The webhook may change labels and annotations only, as upstream
	// enforces; everything else of metadata is the original's.
	md := obj.DeepCopy()
	md.SetLabels(out.GetLabels())
	md.SetAnnotations(out.GetAnnotations())
	out.Object["metadata"] = md.Object["metadata"]
	return out, nil
}
